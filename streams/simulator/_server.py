"""The simulator's RTSP server: runs under the system Python (/usr/bin/python3) with gi.

Not imported by the venv side: `streams.simulator.camsim` runs this file as a script.

Protocol (stdin / stdout, one line each):
- stdin, first line: the spec as JSON (see `streams.simulator.spec.ServerSpec.to_json`).
- stdout: `READY {"cameras": {"cam1": {"main": url, "sub": url, "third": url, "audio": url,
  "port": p}, ...}}` once every camera listens (one URL per stream the spec names: "third",
  the 640x360 stream, when the camera has one; `audio`: a mount with an audio track and
  no video, as a misconfigured camera channel serves).
- stdin, then: control lines `kill CAM`, `hang CAM`, `revive CAM`, `mode CAM MODE` (the
  picture mode: normal, black, frozen, blur, covered, colour_cast, noise), `sessions CAM`
  (answered `OK sessions CAM <opened since start> <open now>`: RTSP sessions of all the
  camera's mounts), `quit`; each gets one answer line `OK <line>` or `ERR <line>: <reason>`
  on stdout.
- stdin end of file, SIGTERM or SIGINT: clean shutdown (exit status 0). Because the
  parent holds the other end of stdin, the server also ends when its parent dies.

Design: one GLib main loop serves every camera; each camera has its own RTSPServer on
its own port, whose listening socket this script owns (so that `kill` can close it and
`hang` can stop accepting while keeping it open). Each mount is a shared media factory
(`appsrc ! textoverlay ! x264enc|x265enc ! rtph264pay|rtph265pay`, the encoder as
`encoding.py` describes: `camera` or `fast`, per camera): one encode serves every client,
and the pipeline exists only while a client is connected. One 25 Hz tick makes a raw I420
frame for every running mount in pure Python (the scene of `scene.py`, day or night, with
the stamp strip of the wall-clock time of that moment) and pushes it into the appsrc.
Mass mode sends looped access units encoded once instead. A new client's PLAY asks
the encoder for a key frame so that the picture starts at once instead of at the next
GOP boundary.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer, GstVideo  # noqa: E402

FONT = "WenQuanYi Micro Hei"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the siblings import each other by these names
    spec.loader.exec_module(module)
    return module


_HERE = Path(__file__).resolve().parent
stamp = _load("hall_camsim_stamp", _HERE.parent / "ingest" / "stamp.py")
encoding = _load("hall_camsim_encoding", _HERE / "encoding.py")
_load("hall_camsim_canvas", _HERE / "canvas.py")
_load("hall_camsim_scene", _HERE / "scene.py")
picture = _load("hall_camsim_picture", _HERE / "picture.py")
ptz_motion = _load("hall_camsim_ptz_motion", _HERE / "ptz_motion.py")
ptz_picture = _load("hall_camsim_ptz_picture", _HERE / "ptz_picture.py")
_load("hall_camsim_onvif_soap", _HERE / "onvif_soap.py")
onvif_device = _load("hall_camsim_onvif_device", _HERE / "onvif_device.py")
_load("hall_camsim_recording", _HERE / "recording.py")
replay = _load("hall_camsim_replay", _HERE / "_replay.py")
FPS = encoding.FPS
GOP = encoding.GOP


def log(msg):
    sys.stderr.write(f"camsim: {msg}\n")
    sys.stderr.flush()


_stdout_lock = threading.Lock()


def say(line):
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


# frames of a pre-encoded loop: 6 s, six GOPs of fast, three of camera (three different
# key frames 2 s apart: with two, a patrol probe that skipped one in a burst saw the same
# picture again 4 s later and judged a healthy camera "frozen")
MASS_FRAMES = 150
MASS_GOP = {"fast": 25, "camera": GOP}


class EncodedLoops:
    """Mass mode: per (size, mode, encoding), MASS_FRAMES frames encoded once, looped.

    The sub streams' loops (what the patrol reads) are encoded before the server says
    READY, one short blocking pipeline per size and mode (~0.4 s for D1 with the camera
    encoding); other streams, and a mode set later, on first use. Every camera of that
    size and mode then sends the same access units, so serving a camera
    costs a buffer push per frame and RTP packetising, no encoding.
    """

    def __init__(self):
        self._loops = {}

    def get(self, mount, mode):
        key = (mount.width, mount.height, mode, mount.encoder())
        loop = self._loops.get(key)
        if loop is None:
            loop = self._loops[key] = self._encode(mount, mode)
        return loop

    def _encode(self, mount, mode):
        width, height = mount.width, mount.height
        caps = f"video/x-raw,format=I420,width={width},height={height},framerate={FPS}/1"
        pipe = Gst.parse_launch(
            f'appsrc name=src format=time caps="{caps}" ! {mount.encoder()} '
            "! appsink name=sink sync=false max-buffers=0"
        )
        src = pipe.get_by_name("src")
        sink = pipe.get_by_name("sink")
        pic = picture.PictureSource(width, height, seed=1, strip_rows=0)
        pic.set_mode(mode)
        pipe.set_state(Gst.State.PLAYING)
        blank = bytes(width)
        for i in range(MASS_FRAMES):
            buf = Gst.Buffer.new_wrapped(pic.frame(i, blank))
            buf.pts = i * Gst.SECOND // FPS
            buf.duration = Gst.SECOND // FPS
            src.emit("push-buffer", buf)
        src.emit("end-of-stream")
        units = []
        while True:
            sample = sink.emit("try-pull-sample", 10 * Gst.SECOND)
            if sample is None:
                break
            buf = sample.get_buffer()
            units.append(buf.extract_dup(0, buf.get_size()))
        pipe.set_state(Gst.State.NULL)
        if len(units) != MASS_FRAMES:
            raise RuntimeError(f"mass mode: encoded {len(units)} of {MASS_FRAMES} frames")
        return units


ENCODED = EncodedLoops()


class Mount:
    """One stream of one camera (e.g. /cam1/sub) and its running pipelines."""

    def __init__(self, camera, cfg):
        self.camera = camera
        self.name = cfg["name"]
        self.path = cfg["path"]
        self.width = int(cfg["width"])
        self.height = int(cfg["height"])
        self.codec = encoding.stream_codec(camera.codec, self.name)
        self.strip_rows = stamp.strip_height(self.height)
        if camera.head is not None:  # a PTZ camera: a window over a panorama
            self.picture = ptz_picture.PtzPicture(
                self.width,
                self.height,
                camera.head,
                seed=camera.seed,
                strip_rows=self.strip_rows,
                night=camera.night,
            )
        else:
            self.picture = picture.PictureSource(
                self.width,
                self.height,
                seed=camera.seed,
                strip_rows=self.strip_rows,
                night=camera.night,
            )
        self.picture.set_mode(camera.mode)
        self.medias = {}  # id(media) -> (appsrc, encoder)
        self.sent = None  # the last frame index sent (mass mode)
        self.want_key = False
        # the scene is drawn in a thread when the first client comes (50-130 ms, longer on
        # a busy machine: in the main loop it would stall every camera); no frames till then
        self.drawn = threading.Event()
        self._drawing = False

    def encoder(self):
        gop = MASS_GOP[self.camera.encoding] if self.camera.mass else GOP
        qp = encoding.quantiser(self.camera.encoding, self.name)
        return encoding.encoder(self.camera.encoding, self.codec, qp, gop)

    def launch(self):
        pay = encoding.payloader(self.codec)
        if self.camera.mass:
            return (
                "( appsrc name=src is-live=true format=time do-timestamp=true block=false "
                f'max-buffers=4 leaky-type=downstream caps="video/x-{self.codec},'
                'stream-format=byte-stream,alignment=au" '
                f"! {encoding.parser(self.codec)} ! {pay} )"
            )
        caps = f"video/x-raw,format=I420,width={self.width},height={self.height},framerate={FPS}/1"
        font_px = max(10, self.height // 24)
        return (
            "( appsrc name=src is-live=true format=time do-timestamp=true block=false "
            f'max-buffers=2 leaky-type=downstream caps="{caps}" '
            # the camera's own name, top right under the stamp strip (as a camera's OSD
            # would be): at the bottom it lay under the console tile's status line
            f'! textoverlay name=osd font-desc="{FONT} {font_px}px" valignment=top '
            f"halignment=right xpad=16 ypad={self.strip_rows + 8} shaded-background=true "
            "auto-resize=false "
            f"! {self.encoder()} ! {pay} )"
        )

    def factory(self):
        f = GstRtspServer.RTSPMediaFactory()
        f.set_launch(self.launch())
        f.set_shared(True)
        f.connect("media-configure", self._on_media_configure)
        if self.camera.auth is not None:
            perms = GstRtspServer.RTSPPermissions()
            perms.add_permission_for_role("viewer", "media.factory.access", True)
            perms.add_permission_for_role("viewer", "media.factory.construct", True)
            f.set_permissions(perms)
        return f

    def _on_media_configure(self, _factory, media):
        bin_ = media.get_element()
        src = bin_.get_by_name("src")
        enc = bin_.get_by_name("enc")
        if not self.camera.mass:
            bin_.get_by_name("osd").set_property("text", self.camera.name)
        key = id(media)
        self.medias[key] = (src, enc)
        media.connect("unprepared", lambda _m: self.medias.pop(key, None))
        if not self._drawing and not self.camera.mass:
            self._drawing = True
            threading.Thread(target=self._draw, name=f"draw-{self.path}", daemon=True).start()

    def _draw(self):
        try:
            self.picture.prepare()
        except Exception as exc:  # the frames then fail in the main loop, loudly
            log(f"{self.path}: cannot draw the picture: {type(exc).__name__}: {exc}")
        self.drawn.set()

    def tick(self, index, now_s):
        if not self.medias:
            self.sent = None  # a new session starts where the loop is, key frame or not
            return
        if self.camera.mass:
            units = ENCODED.get(self, self.camera.mode)
            # a late tick skips frames; it never skips a key frame (a camera's encoder
            # runs on its own hardware): a starved simulator dropped whole GOPs' key
            # frames and relays waited past their open timeout for a first picture
            key = index - index % MASS_GOP[self.camera.encoding]
            sent, self.sent = self.sent, index
            data = units[(key if sent is not None and sent < key < index else index) % len(units)]
            for src, _enc in list(self.medias.values()):
                src.emit("push-buffer", Gst.Buffer.new_wrapped(data))
            return
        if not self.drawn.is_set():
            return
        if self.want_key:
            self.want_key = False
            for _src, enc in list(self.medias.values()):
                event = GstVideo.video_event_new_upstream_force_key_unit(
                    Gst.CLOCK_TIME_NONE, True, 0
                )
                enc.get_static_pad("src").send_event(event)
        row = stamp.stamp_row(int(now_s * 1000), self.width)
        data = self.picture.frame(index, row)
        for src, _enc in list(self.medias.values()):
            src.emit("push-buffer", Gst.Buffer.new_wrapped(data))


def audio_factory(with_auth):
    """A mount with silence (G.711 A-law) and no video track."""
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch(
        "( audiotestsrc is-live=true wave=silence ! audio/x-raw,rate=8000,channels=1 "
        "! alawenc ! rtppcmapay name=pay0 pt=8 )"
    )
    f.set_shared(True)
    if with_auth:
        perms = GstRtspServer.RTSPPermissions()
        perms.add_permission_for_role("viewer", "media.factory.access", True)
        perms.add_permission_for_role("viewer", "media.factory.construct", True)
        f.set_permissions(perms)
    return f


class Camera:
    NORMAL, HUNG, KILLED = "normal", "hung", "killed"

    def __init__(self, cfg, host, mass=False):
        self.mass = mass  # looped pre-encoded pictures (no stamp, no name, no encoder)
        self.id = cfg["id"]
        self.name = cfg["name"]
        self.seed = int(cfg.get("seed", 0))
        self.auth = tuple(cfg["auth"]) if cfg.get("auth") else None
        self.host = host
        self.port = int(cfg.get("port", 0))
        self.state = self.NORMAL
        self.mode = cfg.get("mode") or "normal"
        self.encoding = cfg.get("encoding") or "camera"
        self.codec = cfg.get("codec") or "h264"
        self.night = bool(cfg.get("night"))
        self.head = ptz_motion.PtzHead() if cfg.get("ptz") else None
        self.onvif = None  # the ONVIF device of a PTZ camera (onvif_device.py)
        encoding.encoder(self.encoding, self.codec, encoding.FAST_QP)  # checks both
        if self.mode not in picture.MODES:
            raise ValueError(f"{self.id}: unknown picture mode {self.mode!r}")
        self.mounts = [Mount(self, m) for m in cfg["streams"]]
        record_root = cfg.get("record_dir")
        self.recorder = replay.Recorder(self, Path(record_root)) if record_root else None
        self.replays = []
        self.server = None
        self.socket = None
        self.watch = None
        self.sessions_opened = 0

    # -- listening ------------------------------------------------------------------
    def start(self):
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address(self.host)
        self.server.set_backlog(64)
        if self.auth is not None:
            auth = GstRtspServer.RTSPAuth()
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            token = GstRtspServer.RTSPToken()
            token.set_string("media.factory.role", "viewer")
            auth.add_digest(self.auth[0], self.auth[1], token)
            self.server.set_auth(auth)
        mounts = self.server.get_mount_points()
        for m in self.mounts:
            mounts.add_factory(m.path, m.factory())
        mounts.add_factory(self.audio_path(), audio_factory(self.auth is not None))
        if self.recorder is not None:
            self._add_replay(mounts)
        self.server.connect("client-connected", self._on_client)
        self._listen()
        if self.head is not None:
            self.onvif = onvif_device.for_camera(self)
            self.onvif.start()

    def _add_replay(self, mounts):
        self.replays = replay.add_factories(mounts, self.recorder.folder, self.auth is not None)
        self.recorder.start()

    def _listen(self):
        self.server.set_service(str(self.port))
        self.socket = self.server.create_socket(None)
        self.port = self.socket.get_local_address().get_port()
        self._accept_on()

    def _accept_on(self):
        if self.watch is None:
            self.watch = GLib.io_add_watch(
                self.socket.get_fd(), GLib.PRIORITY_DEFAULT, GLib.IO_IN, self._on_accept
            )

    def _accept_off(self):
        if self.watch is not None:
            GLib.source_remove(self.watch)
            self.watch = None

    def _on_accept(self, _fd, _cond):
        try:
            conn = self.socket.accept(None)
        except GLib.Error as exc:
            log(f"{self.id}: accept failed: {exc.message}")
            return True
        addr = conn.get_remote_address()
        self.server.transfer_connection(conn, addr.get_address().to_string(), addr.get_port(), None)
        return True

    def _on_client(self, _server, client):
        client.connect("play-request", self._on_play)
        client.connect("new-session", self._on_session)
        if self.replays:
            client.connect(
                "pre-play-request", lambda _c, ctx: replay.on_pre_play(self.replays, ctx)
            )
            client.connect("check-requirements", replay.on_requirements)
            client.connect("pre-describe-request", lambda _c, ctx: replay.on_pre_describe(ctx))

    def _on_session(self, _client, _session):
        self.sessions_opened += 1

    def sessions(self):
        """RTSP sessions opened since start, and open now (all of this camera's mounts)."""
        open_now = self.server.get_session_pool().get_n_sessions() if self.server else 0
        return self.sessions_opened, open_now

    def _on_play(self, _client, ctx):
        path = ctx.uri.abspath if ctx.uri is not None else ""
        for m in self.mounts:
            if path.startswith(m.path):
                m.want_key = True

    def _drop_everyone(self):
        self.server.client_filter(lambda *_a: GstRtspServer.RTSPFilterResult.REMOVE, None)
        pool = self.server.get_session_pool()
        pool.filter(lambda *_a: GstRtspServer.RTSPFilterResult.REMOVE, None)

    # -- faults -----------------------------------------------------------------------
    def kill(self):
        self._accept_off()
        if self.socket is not None:
            self.socket.close()
            self.socket = None
        self._drop_everyone()
        self.state = self.KILLED

    def hang(self):
        if self.state == self.KILLED:
            raise ValueError("is killed; revive it first")
        self._accept_off()
        self.state = self.HUNG

    def revive(self):
        if self.state == self.KILLED:
            self._listen()
        else:
            self._accept_on()
        self.state = self.NORMAL
        for m in self.mounts:
            m.want_key = True

    def set_mode(self, mode):
        if mode not in picture.MODES:
            raise ValueError(f"unknown picture mode {mode!r}; known: {', '.join(picture.MODES)}")
        self.mode = mode
        if self.recorder is not None:
            self.recorder.set_mode(mode)
        for m in self.mounts:
            m.picture.set_mode(mode)
            m.want_key = True  # the new picture starts with a key frame

    def tick(self, index, now_s):
        if self.state != self.NORMAL:
            return
        for m in self.mounts:
            m.tick(index, now_s)
        if self.recorder is not None:
            self.recorder.tick(index, now_s)

    def audio_path(self):
        return f"/{self.id}/audio-only"

    def ready_info(self):
        info = {"port": self.port}
        for m in self.mounts:
            info[m.name] = f"rtsp://{self.host}:{self.port}{m.path}"
        info["audio"] = f"rtsp://{self.host}:{self.port}{self.audio_path()}"
        if self.onvif is not None:
            info["onvif"] = self.onvif.xaddr
        if self.recorder is not None:
            info["playback"] = f"rtsp://{self.host}:{self.port}{replay.NVR_PATH}"
            info["replay"] = f"rtsp://{self.host}:{self.port}{replay.ONVIF_PATH}"
        return info


class Simulator:
    def __init__(self, spec):
        host = spec.get("host", "127.0.0.1")
        mass = bool(spec.get("mass"))
        self.cameras = {c["id"]: Camera(c, host, mass) for c in spec["cameras"]}
        self.loop = GLib.MainLoop()
        self.t0 = time.monotonic()
        self.next_index = 0

    def start(self):
        for cam in self.cameras.values():
            if cam.mass:  # the patrol's sub streams now: encoding later blocks every camera
                for m in cam.mounts:
                    if m.name == "sub":
                        ENCODED.get(m, cam.mode)
            cam.start()
        self._schedule()
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, self._quit)
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, self._quit)
        threading.Thread(target=self._read_stdin, name="stdin", daemon=True).start()
        info = {cid: cam.ready_info() for cid, cam in self.cameras.items()}
        say("READY " + json.dumps({"cameras": info}, ensure_ascii=False))

    # -- the 25 Hz tick -----------------------------------------------------------------
    def _schedule(self):
        due = self.t0 + self.next_index / FPS
        delay_ms = max(0, round((due - time.monotonic()) * 1000))
        GLib.timeout_add(delay_ms, self._tick)

    def _tick(self):
        now_mono = time.monotonic()
        # skips frames rather than bunching them when late; never repeats one when the
        # timer fires a little early (rounding to ms), which would exceed 25 fps
        index = max(int((now_mono - self.t0) * FPS), self.next_index)
        now_s = time.time()
        for cam in self.cameras.values():
            cam.tick(index, now_s)
        self.next_index = index + 1
        self._schedule()
        return False

    # -- control ------------------------------------------------------------------------
    def _read_stdin(self):
        for raw in sys.stdin:
            line = raw.strip()
            if line:
                GLib.idle_add(self._control, line)
        GLib.idle_add(self._quit)

    def _control(self, line):
        parts = line.split()
        try:
            if parts == ["quit"]:
                say(f"OK {line}")
                self._quit()
                return False
            if len(parts) == 2 and parts[0] == "sessions":
                cam = self.cameras.get(parts[1])
                if cam is None:
                    raise ValueError(f"unknown camera {parts[1]!r}")
                opened, open_now = cam.sessions()
                say(f"OK {line} {opened} {open_now}")
                return False
            if len(parts) == 3 and parts[0] == "mode":
                cam = self.cameras.get(parts[1])
                if cam is None:
                    raise ValueError(f"unknown camera {parts[1]!r}")
                cam.set_mode(parts[2])
                say(f"OK {line}")
                return False
            if len(parts) != 2 or parts[0] not in ("kill", "hang", "revive"):
                raise ValueError(
                    "expected: kill|hang|revive CAMERA_ID, mode CAMERA_ID MODE, or quit"
                )
            cam = self.cameras.get(parts[1])
            if cam is None:
                raise ValueError(f"unknown camera {parts[1]!r}")
            getattr(cam, parts[0])()
            say(f"OK {line}")
        except Exception as exc:  # every failure becomes an ERR line
            say(f"ERR {line}: {exc}")
        return False

    def _quit(self, *_a):
        for cam in self.cameras.values():
            if cam.onvif is not None:
                cam.onvif.stop()
            if cam.state != Camera.KILLED:
                cam.kill()
            if cam.recorder is not None:
                cam.recorder.stop()
        GLib.timeout_add(150, self.loop.quit)
        return False

    def run(self):
        self.loop.run()


def main():
    if sys.argv[1:] == ["backfill"]:
        return replay.main()
    Gst.init(None)
    line = sys.stdin.readline()
    if not line:
        log("no spec on stdin")
        return 2
    try:
        spec = json.loads(line)
        sim = Simulator(spec)
        sim.start()
    except Exception as exc:  # reported to the parent, which shows stderr
        log(f"cannot start: {type(exc).__name__}: {exc}")
        return 1
    sim.run()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: finalising GStreamer objects from Python's exit
    # handlers can crash; everything is closed by now.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
