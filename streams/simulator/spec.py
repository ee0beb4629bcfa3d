"""What the simulator serves: cameras, ports, mounts and credentials, as plain values.

Built on the venv side (from a camera count or a site's cameras as `CameraSource`s) and
handed to the server (which runs under the system Python, without pydantic) as one JSON line on its
stdin, so that passwords never appear on a command line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

from streams.ingest.sources import CameraSource, StreamSource
from streams.simulator.encoding import CODECS, PROFILES
from streams.simulator.picture import MODES

MAIN_SIZE = (1280, 720)
SUB_SIZE = (704, 576)
THIRD_SIZE = (640, 360)  # the small third stream many cameras offer
LOOPBACK = "127.0.0.1"
MAX_CAMERAS = 1000
SCENES = ("day", "night", "mixed")  # mixed: every fourth camera (by seed) at night


class SpecError(ValueError):
    """A camera set the simulator cannot serve; the message names the camera and field."""


@dataclass(frozen=True, slots=True)
class MountSpec:
    name: Literal["main", "sub", "third"]
    path: str
    width: int
    height: int

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "path": self.path, "width": self.width, "height": self.height}


@dataclass(frozen=True, slots=True)
class CameraSpec:
    id: str
    name: str
    port: int  # 0: the server picks a free port
    seed: int  # varies the picture between cameras
    mounts: tuple[MountSpec, ...]
    auth: tuple[str, str] | None = None
    mode: str = "normal"  # picture mode (streams.simulator.picture.MODES)
    encoding: str = "camera"  # streams.simulator.encoding.PROFILES
    codec: str = "h264"  # of the main stream (streams.simulator.encoding.CODECS)
    night: bool = False  # the night-time infrared picture
    ptz: bool = False  # a PTZ camera: picture over a panorama, ONVIF service (ptz_picture)
    record_dir: str | None = None  # the recording's root folder (streams.simulator.recording)

    def to_dict(self) -> dict[str, object]:
        return {
            "ptz": self.ptz,
            "record_dir": self.record_dir,
            "mode": self.mode,
            "encoding": self.encoding,
            "codec": self.codec,
            "night": self.night,
            "id": self.id,
            "name": self.name,
            "port": self.port,
            "seed": self.seed,
            "streams": [m.to_dict() for m in self.mounts],
            "auth": list(self.auth) if self.auth is not None else None,
        }


@dataclass(frozen=True, slots=True)
class ServerSpec:
    cameras: tuple[CameraSpec, ...]
    host: str = LOOPBACK
    auth: tuple[str, str] | None = None  # the one credential of every camera, if there is one
    mass: bool = False  # looped pre-encoded pictures: cheap enough for hundreds of cameras

    @property
    def camera_ids(self) -> list[str]:
        return [c.id for c in self.cameras]

    def to_json(self) -> str:
        return json.dumps(
            {"host": self.host, "mass": self.mass, "cameras": [c.to_dict() for c in self.cameras]},
            ensure_ascii=False,
        )


def _check_auth(auth: tuple[str, str] | None) -> None:
    if auth is None:
        return
    user, password = auth
    if not user:
        raise SpecError("auth: the user name must not be empty")
    if not password:
        raise SpecError("auth: the password must not be empty")
    if ":" in user:
        raise SpecError("auth: the user name must not contain ':'")


def _base_port(base_port: int | None, cameras: int) -> int:
    """0 for free ports, else the first port; the last one must fit too."""
    if base_port is None or base_port == 0:
        return 0
    last = base_port + cameras - 1
    if base_port < 0 or last > 65535:
        raise SpecError(
            f"base port: {base_port} + {cameras} cameras needs ports up to {last}, outside 1..65535"
        )
    return base_port


def numbered_spec(
    cameras: int, *, base_port: int | None = None, auth: tuple[str, str] | None = None
) -> ServerSpec:
    """Cameras cam1..camN, each with main, sub and third; ports base_port, base_port+1, ...

    (None or 0: free ports).
    """
    if not 1 <= cameras <= MAX_CAMERAS:
        raise SpecError(f"cameras: {cameras} is outside 1..{MAX_CAMERAS}")
    _check_auth(auth)
    base = _base_port(base_port, cameras)
    specs = []
    for i in range(1, cameras + 1):
        cid = f"cam{i}"
        specs.append(
            CameraSpec(
                id=cid,
                name=f"模拟摄像机 {i}",
                port=base + i - 1 if base else 0,
                seed=i,
                mounts=(
                    MountSpec("main", f"/{cid}/main", *MAIN_SIZE),
                    MountSpec("sub", f"/{cid}/sub", *SUB_SIZE),
                    MountSpec("third", f"/{cid}/third", *THIRD_SIZE),
                ),
                auth=auth,
            )
        )
    return ServerSpec(tuple(specs), auth=auth)


def _site_mounts(cam: CameraSource) -> tuple[str, int, tuple[MountSpec, ...]]:
    """(host, port, mounts) of one site camera, checked."""
    host: str | None = None
    port: int | None = None
    mounts: list[MountSpec] = []
    streams: list[tuple[Literal["main", "sub", "third"], StreamSource]] = [
        ("main", cam.main),
        ("sub", cam.sub),
    ]
    if cam.third is not None:
        streams.append(("third", cam.third))
    for name, cfg in streams:
        what = f"cameras.{cam.id}.{name}.url"
        parts = urlsplit(cfg.url)
        if parts.scheme != "rtsp":
            raise SpecError(f"{what}: the simulator serves rtsp:// only, got {cfg.url!r}")
        try:
            url_port = parts.port
        except ValueError:
            raise SpecError(f"{what}: bad port in {cfg.url!r}") from None
        if url_port is None:
            raise SpecError(f"{what}: needs an explicit port, got {cfg.url!r}")
        if port is not None and url_port != port:
            raise SpecError(f"{what}: the streams must share one port ({port} != {url_port})")
        port = url_port
        url_host = parts.hostname or ""
        if host is not None and url_host != host:
            raise SpecError(f"{what}: the streams must share one host")
        host = url_host
        if not parts.path or parts.path == "/":
            raise SpecError(f"{what}: needs a path, got {cfg.url!r}")
        if cfg.width % 2 or cfg.height % 2:
            raise SpecError(f"{what}: size must be even, got {cfg.width}x{cfg.height}")
        mounts.append(MountSpec(name, parts.path, cfg.width, cfg.height))
    if len({m.path for m in mounts}) != len(mounts):
        raise SpecError(f"cameras.{cam.id}: two of its streams have the same path")
    assert host is not None and port is not None
    return host, port, tuple(mounts)


def _site_auth(cam: CameraSource) -> tuple[str, str] | None:
    cred = cam.auth
    if cred is None:
        return None
    if cred.password:
        return (cred.username, cred.password)
    source = f"${cred.password_env}" if cred.password_env else "its password"
    print(
        f"camsim: warning: {cam.id}: credential {cred.entry!r} has an empty password "
        f"({source} is unset); serving it without authentication",
        file=sys.stderr,
    )
    return None


def site_spec(
    cameras: Sequence[CameraSource],
    *,
    base_port: int | None = None,
    auth: tuple[str, str] | None = None,
) -> ServerSpec:
    """Exactly the cameras, ports and paths of a site (its cameras as plain values).

    `auth` overrides the site's credentials for every camera. `base_port` moves camera
    number i (0-based, in site order) to port base_port + i, paths unchanged. A camera
    whose credential resolves to an empty password (its environment variable unset) is
    served without authentication, with a warning on stderr.
    """
    _check_auth(auth)
    if not cameras:
        raise SpecError("cameras: the site has no cameras to serve")
    base = _base_port(base_port, len(cameras))
    hosts: set[str] = set()
    specs = []
    for i, cam in enumerate(cameras):
        host, port, mounts = _site_mounts(cam)
        hosts.add(host)
        specs.append(
            CameraSpec(
                id=cam.id,
                name=cam.name,
                port=base + i if base else port,
                seed=i + 1,
                mounts=mounts,
                auth=auth if auth is not None else _site_auth(cam),
            )
        )
    if len(hosts) > 1:
        raise SpecError(f"cameras: every camera must use one host, got {sorted(hosts)}")
    seen: dict[int, str] = {}
    for c in specs:
        if c.port in seen:
            raise SpecError(f"cameras.{c.id}: port {c.port} is also used by {seen[c.port]}")
        seen[c.port] = c.id
    auths = {c.auth for c in specs}
    common = auths.pop() if len(auths) == 1 else None
    return ServerSpec(tuple(specs), host=hosts.pop(), auth=common)


# Both names are in use by callers.
spec_for_count = numbered_spec
spec_for_site = site_spec


def with_faults(spec: ServerSpec, faults: Mapping[str, str]) -> ServerSpec:
    """`spec` with the picture mode of some cameras set (camera id -> mode)."""
    ids = set(spec.camera_ids)
    for cid, mode in faults.items():
        if cid not in ids:
            raise SpecError(f"faults: unknown camera {cid!r}")
        if mode not in MODES:
            raise SpecError(
                f"faults.{cid}: unknown picture mode {mode!r}; known: {', '.join(MODES)}"
            )
    cams = tuple(replace(c, mode=faults.get(c.id, c.mode)) for c in spec.cameras)
    return replace(spec, cameras=cams)


def with_profile(
    spec: ServerSpec,
    *,
    encoding: str = "camera",
    codec: str = "h264",
    scene: str = "day",
    codecs: Mapping[str, str] | None = None,
) -> ServerSpec:
    """`spec` with every camera's encoding, main-stream codec and time of day set.

    `codecs` (camera id -> codec) overrides `codec` for some cameras.
    """
    if encoding not in PROFILES:
        raise SpecError(f"encoding: unknown {encoding!r}; known: {', '.join(PROFILES)}")
    if scene not in SCENES:
        raise SpecError(f"scene: unknown {scene!r}; known: {', '.join(SCENES)}")
    per_camera = dict(codecs or {})
    unknown = set(per_camera) - set(spec.camera_ids)
    if unknown:
        raise SpecError(f"codecs: unknown camera {sorted(unknown)[0]!r}")
    for what, value in [("codec", codec), *((f"codecs.{k}", v) for k, v in per_camera.items())]:
        if value not in CODECS:
            raise SpecError(f"{what}: unknown {value!r}; known: {', '.join(CODECS)}")
        if encoding == "fast" and value != "h264":
            raise SpecError(f"{what}: the fast encoding is H.264 only")

    def night(c: CameraSpec) -> bool:
        return scene == "night" or (scene == "mixed" and c.seed % 4 == 0)

    cams = tuple(
        replace(c, encoding=encoding, codec=per_camera.get(c.id, codec), night=night(c))
        for c in spec.cameras
    )
    return replace(spec, cameras=cams)


def with_ptz(spec: ServerSpec, cameras: Sequence[str]) -> ServerSpec:
    """`spec` with some cameras made PTZ cameras (an ONVIF service each)."""
    ids = set(spec.camera_ids)
    for cid in cameras:
        if cid not in ids:
            raise SpecError(f"ptz: unknown camera {cid!r}")
    if cameras and spec.mass:
        raise SpecError("ptz: mass mode serves looped pictures; a PTZ camera cannot move them")
    for c in spec.cameras:
        if c.id in cameras and any(m.width % 8 or m.height % 8 for m in c.mounts):
            raise SpecError(f"ptz.{c.id}: PTZ pictures need sizes that are multiples of 8")
    chosen = set(cameras)
    cams = tuple(replace(c, ptz=c.id in chosen or c.ptz) for c in spec.cameras)
    return replace(spec, cameras=cams)


def with_recording(
    spec: ServerSpec, folder: str, cameras: Sequence[str] | None = None
) -> ServerSpec:
    """The cameras (all when None) record into `folder`/<camera id>/ and serve playback."""
    wanted = set(spec.camera_ids if cameras is None else cameras)
    unknown = wanted - set(spec.camera_ids)
    if unknown:
        raise SpecError(f"recording: unknown cameras {sorted(unknown)}")
    cams = tuple(replace(c, record_dir=folder) if c.id in wanted else c for c in spec.cameras)
    return replace(spec, cameras=cams)


def parse_camera_codec(value: str) -> tuple[str, str]:
    """`cam3=h265` -> ("cam3", "h265"); SpecError for anything else."""
    cid, sep, codec = value.partition("=")
    if not sep or not cid.strip() or codec.strip() not in CODECS:
        raise SpecError(
            f"camera codec {value!r}: expected CAMERA=CODEC with CODEC one of {', '.join(CODECS)}"
        )
    return cid.strip(), codec.strip()


def parse_fault(value: str) -> tuple[str, str]:
    """`cam3=blur` -> ("cam3", "blur"); SpecError for anything else."""
    cid, sep, mode = value.partition("=")
    if not sep or not cid.strip() or mode.strip() not in MODES:
        raise SpecError(
            f"fault {value!r}: expected CAMERA=MODE with MODE one of {', '.join(MODES)}"
        )
    return cid.strip(), mode.strip()
