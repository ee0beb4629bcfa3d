"""`hall-camsim`: serve synthetic RTSP cameras in the foreground until Ctrl-C or SIGTERM.

Prints exactly one `READY {json}` line when every camera listens. With `--control`,
stdin lines `kill CAM`, `hang CAM`, `revive CAM` are forwarded to the server and
answered `OK <line>` or `ERR <line>: <reason>`; `quit` (or end of stdin) stops it.
Exit status: 0 after Ctrl-C / SIGTERM / quit, 1 if the server fails or dies, 2 for bad
arguments or a bad site file.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from streams.ingest.sources import SourcesError, read_camera_sources
from streams.simulator.camsim import CamSim, CamSimError
from streams.simulator.encoding import CODECS, PROFILES
from streams.simulator.picture import MODES
from streams.simulator.spec import SCENES, SpecError, parse_camera_codec, parse_fault


def parse_auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError("expected USER:PASSWORD, both non-empty")
    return user, password


def parse_port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 0..65535")
    return port


def parse_cameras(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} is not a positive number")
    return n


def _fault_arg(value: str) -> tuple[str, str]:
    try:
        return parse_fault(value)
    except SpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _camera_codec_arg(value: str) -> tuple[str, str]:
    try:
        return parse_camera_codec(value)
    except SpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


PTZ_HELP = "make this camera a PTZ camera with an ONVIF service (repeatable)"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hall-camsim", description="Synthetic H.264/H.265 cameras over a real RTSP server."
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--cameras", type=parse_cameras, default=4, help="number of cameras (4)")
    which.add_argument("--site", type=Path, help="serve the cameras of this site TOML file")
    p.add_argument(
        "--base-port",
        type=parse_port,
        default=0,
        help="first camera's port, then +1 each (default 0: free ports, "
        "or with --site the ports of the site's URLs)",
    )
    p.add_argument(
        "--auth",
        type=parse_auth,
        help="USER:PASSWORD for digest auth (with --site, default: the site's credentials)",
    )
    p.add_argument(
        "--fault",
        type=_fault_arg,
        action="append",
        default=[],
        metavar="CAM=MODE",
        help=f"serve a camera with a faulty picture; MODE: {', '.join(MODES)} (repeatable)",
    )
    p.add_argument(
        "--mass",
        action="store_true",
        help="cheap cameras for load tests: looped pre-encoded pictures (no stamp, no name)",
    )
    p.add_argument(
        "--encoding",
        choices=PROFILES,
        default="camera",
        help="camera: H.264 High/CABAC at a camera's bit rate, key frame every 2 s (default); "
        "fast: cheap x264 ultrafast for load tests",
    )
    p.add_argument(
        "--codec",
        choices=CODECS,
        default="h264",
        help="codec of the main streams (h265 with --encoding camera); sub and third are H.264",
    )
    p.add_argument(
        "--camera-codec",
        type=_camera_codec_arg,
        action="append",
        default=[],
        metavar="CAM=CODEC",
        help="the main stream's codec of one camera (overrides --codec; repeatable)",
    )
    p.add_argument(
        "--scene",
        choices=SCENES,
        default="day",
        help="day, night (infrared black and white) or mixed (every fourth camera at night)",
    )
    p.add_argument("--ptz", action="append", default=[], metavar="CAM", help=PTZ_HELP)
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="DIR",
        help="record the cameras (640x360, last 2 h) into DIR and serve the recording "
        "(/Streaming/tracks/101?starttime=..., /onvif-replay); see docs/playback.md",
    )
    p.add_argument(
        "--record-camera",
        action="append",
        default=None,
        metavar="CAM",
        help="record only this camera (repeatable; default: all with --record)",
    )
    p.add_argument(
        "--control", action="store_true", help="read kill/hang/revive/mode lines on stdin"
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for READY")
    return p


def make_sim(args: argparse.Namespace) -> CamSim:
    """The simulator the arguments describe; raises SourcesError or SpecError.

    `--site` reads just the site's cameras and credentials (`read_camera_sources`):
    `streams` never imports `dispatch`, and the simulator needs no more of the site.
    """
    if args.site is not None:
        return CamSim(
            site=read_camera_sources(args.site),
            base_port=args.base_port or None,
            auth=args.auth,
            faults=dict(args.fault),
            mass=args.mass,
            encoding=args.encoding,
            codec=args.codec,
            scene=args.scene,
            codecs=dict(args.camera_codec),
            ptz=args.ptz,
            record_dir=args.record,
            record_cameras=args.record_camera,
        )
    return CamSim(
        args.cameras,
        base_port=args.base_port or None,
        auth=args.auth,
        faults=dict(args.fault),
        mass=args.mass,
        encoding=args.encoding,
        codec=args.codec,
        scene=args.scene,
        codecs=dict(args.camera_codec),
        ptz=args.ptz,
        record_dir=args.record,
        record_cameras=args.record_camera,
    )


def _control_loop(sim: CamSim, done: threading.Event) -> None:
    for raw in sys.stdin:
        line = raw.strip()
        if not line:
            continue
        verb, _, cam = line.partition(" ")
        try:
            if line == "quit":
                print(f"OK {line}", flush=True)
                break
            if verb == "kill":
                sim.kill(cam.strip())
            elif verb == "hang":
                sim.hang(cam.strip())
            elif verb == "revive":
                sim.revive(cam.strip())
            elif verb == "mode" and len(cam.split()) == 2:
                sim.set_mode(*cam.split())
            else:
                raise ValueError(
                    "expected: kill|hang|revive CAMERA_ID, mode CAMERA_ID MODE, or quit"
                )
            print(f"OK {line}", flush=True)
        except (KeyError, ValueError, CamSimError) as exc:
            reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            print(f"ERR {line}: {reason}", flush=True)
    done.set()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        sim = make_sim(args)
    except (SourcesError, SpecError) as exc:
        print(f"hall-camsim: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        done.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            sim.start(args.timeout)
        except CamSimError as exc:
            print(f"hall-camsim: {exc}", file=sys.stderr)
            return 1
        print(sim.ready_line(), flush=True)
        if args.control:
            threading.Thread(target=_control_loop, args=(sim, done), daemon=True).start()
        while not done.wait(0.5):
            if not sim.running:
                print(f"hall-camsim: the server died\n{sim.stderr_tail()}", file=sys.stderr)
                return 1
        return 0
    finally:
        sim.stop()
        for s, handler in old.items():
            signal.signal(s, handler)


if __name__ == "__main__":
    sys.exit(main())
