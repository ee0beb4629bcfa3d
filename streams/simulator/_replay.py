"""Recording and replay in the simulator's server (system Python, GStreamer's bindings).

Loaded by `_server.py` by path. Three parts:

- `Recorder`: one per recording camera, always running: the camera's 640x360 picture
  (same scene and stamp as its streams) through the camera encoding (H.264 High, the
  small streams' quantiser, a key frame every second) into an appsink whose access
  units go to `recording.SegmentWriter` (segments of a minute, retention 2 h 10 min).
- `ReplayFactory`: serves the recording over RTSP in two forms, on the camera's port:
  `/Streaming/tracks/101?starttime=YYYYMMDDTHHMMSSZ&endtime=…` (the NVR form; `speed=`
  is this simulator's extension for clients that cannot send Scale), and `/onvif-replay`
  with `Require: onvif-replay`, `Range: clock=…-…` and `Scale: N` on PLAY (the ONVIF
  replay form; `Frames: intra` asks for key frames only). The Scale header is taken in
  both forms. Each client gets its own media (`appsrc ! h264parse ! rtph264pay`) fed by
  a `Feeder` thread from the index at the requested pace; above x4 only key frames are
  sent (an NVR's fast forward). A time without recording is skipped to the next
  recording; the end of the span (or of the recording) ends the stream.
- `backfill()`: writes a past span as fast as the encoder goes (for tests and the
  bench, which cannot wait hours), at a chosen frame rate, with a picture-mode schedule.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import parse_qs

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtsp, GstRtspServer  # noqa: E402

_mods = sys.modules
recording = _mods["hall_camsim_recording"]
encoding = _mods["hall_camsim_encoding"]
picture = _mods["hall_camsim_picture"]
stamp = _mods["hall_camsim_stamp"]

REC_SIZE = (640, 360)
NVR_PATH = "/Streaming/tracks/101"
ONVIF_PATH = "/onvif-replay"
KEYS_ONLY_ABOVE = 4.0
MAX_SCALE = 16.0
H264_CAPS = "video/x-h264,stream-format=byte-stream,alignment=au"


def _recorder_launch(caps: str, gop: int, live: bool) -> str:
    live_props = "is-live=true do-timestamp=false" if live else "is-live=false block=true"
    enc = encoding.encoder("camera", "h264", encoding.SMALL_QP, gop)
    return (
        f'appsrc name=src format=time {live_props} max-bytes=0 caps="{caps}" '
        f"! {enc} ! appsink name=sink emit-signals=true sync=false max-buffers=0"
    )


class _Encoder:
    """Raw frames in, (ms, access unit, key) to a SegmentWriter out."""

    def __init__(self, folder: Path, seed: int, night: bool, live: bool, gop: int):
        w, h = REC_SIZE
        self.width = w
        self.pic = picture.PictureSource(
            w, h, seed=seed, strip_rows=stamp.strip_height(h), night=night
        )
        self.writer = recording.SegmentWriter(folder)
        caps = f"video/x-raw,format=I420,width={w},height={h},framerate={encoding.FPS}/1"
        self.pipe = Gst.parse_launch(_recorder_launch(caps, gop, live))
        self.src = self.pipe.get_by_name("src")
        sink = self.pipe.get_by_name("sink")
        sink.connect("new-sample", self._on_sample)
        self.t0_ms: int | None = None
        # the capture ms of frames in the encoder, oldest first: no B-frames, so access
        # units come out in this order (their PTS carry the encoder's 1000-hour offset)
        self.pending: deque[int] = deque()

    def watch_errors(self) -> None:
        """Log the pipeline's errors (needs the server's GLib main loop)."""
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self._on_error)

    def _on_error(self, _bus, msg) -> None:
        err, _dbg = msg.parse_error()
        sys.stderr.write(f"camsim: recorder: {err.message}\n")

    def finish(self, timeout_s: float) -> None:
        """End of stream, then wait for it to leave the encoder (no main loop needed)."""
        self.src.emit("end-of-stream")
        bus = self.pipe.get_bus()
        msg = bus.timed_pop_filtered(
            int(timeout_s * Gst.SECOND), Gst.MessageType.EOS | Gst.MessageType.ERROR
        )
        if msg is None or msg.type == Gst.MessageType.ERROR:
            raise RuntimeError("backfill: the encoder did not finish")

    def start(self) -> None:
        self.pic.prepare()
        self.pipe.set_state(Gst.State.PLAYING)

    def push(self, index: int, ms: int) -> None:
        if self.t0_ms is None:
            self.t0_ms = ms
        data = self.pic.frame(index, stamp.stamp_row(ms, self.width))
        buf = Gst.Buffer.new_wrapped(data)
        buf.pts = (ms - self.t0_ms) * Gst.MSECOND
        buf.duration = Gst.SECOND // encoding.FPS
        self.pending.append(ms)
        self.src.emit("push-buffer", buf)

    def _on_sample(self, sink) -> Gst.FlowReturn:
        sample = sink.emit("pull-sample")
        buf = sample.get_buffer()
        if not self.pending:
            return Gst.FlowReturn.OK
        ms = self.pending.popleft()
        key = not buf.has_flags(Gst.BufferFlags.DELTA_UNIT)
        self.writer.add(ms, buf.extract_dup(0, buf.get_size()), key)
        return Gst.FlowReturn.OK

    def stop(self) -> None:
        self.pipe.set_state(Gst.State.NULL)
        self.writer.close()


class Recorder:
    """A camera's continuous recording (see the module text). Ticked at 25 Hz."""

    def __init__(self, camera, root: Path):
        self.camera = camera
        self.folder = root / camera.id
        self.enc: _Encoder | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        self.enc = _Encoder(
            self.folder, self.camera.seed, self.camera.night, live=True, gop=recording.RECORD_GOP
        )
        self.enc.pic.set_mode(self.camera.mode)
        self.enc.watch_errors()

        def prepare() -> None:  # drawing the scene takes 50-130 ms: not in the main loop
            self.enc.start()
            self._ready.set()

        threading.Thread(target=prepare, name=f"rec-{self.camera.id}", daemon=True).start()

    def set_mode(self, mode: str) -> None:
        if self.enc is not None:
            self.enc.pic.set_mode(mode)

    def tick(self, index: int, now_s: float) -> None:
        if self._ready.is_set() and self.enc is not None:
            self.enc.push(index, int(now_s * 1000))

    def stop(self) -> None:
        if self.enc is not None and self._ready.is_set():
            self.enc.stop()


def backfill(cfg: dict) -> int:
    """Write `cfg`'s span (start_ms..end_ms at fps, modes [[from_ms, to_ms, mode], ...]);
    returns the number of access units written."""
    fps = float(cfg.get("fps", encoding.FPS))
    step_ms = 1000.0 / fps
    gop = max(1, round(fps * recording.RECORD_GOP / encoding.FPS))
    enc = _Encoder(Path(cfg["folder"]), int(cfg.get("seed", 0)), bool(cfg.get("night")), False, gop)
    modes = [(int(a), int(b), str(m)) for a, b, m in cfg.get("modes", [])]
    enc.start()
    start, end = int(cfg["start_ms"]), int(cfg["end_ms"])
    n = 0
    while (ms := start + round(n * step_ms)) < end:
        mode = next((m for a, b, m in modes if a <= ms < b), "normal")
        if mode != enc.pic.mode:
            enc.pic.set_mode(mode)
            enc.pic.prepare()
        enc.push(round((ms - start) * encoding.FPS / 1000), ms)
        n += 1
    enc.finish(600)
    enc.stop()
    return enc.writer.units


# -- replay -------------------------------------------------------------------------------


def _scale(text: str | None) -> float:
    if not text:
        return 1.0
    try:
        value = float(text)
    except ValueError:
        raise recording.RecordingError(f"Scale is not a number: {text!r}") from None
    if not 0 < value <= MAX_SCALE:
        raise recording.RecordingError(f"Scale {value:g} is outside (0, {MAX_SCALE:g}]")
    return value


def parse_nvr_query(query: str | None) -> tuple[int | None, int | None, float]:
    """(start ms, end ms, speed) of the NVR form's query."""
    q = {k: v[-1] for k, v in parse_qs(query or "").items()}
    start = recording.parse_clock(q["starttime"]) if "starttime" in q else None
    end = recording.parse_clock(q["endtime"]) if "endtime" in q else None
    if start is not None and end is not None and end <= start:
        raise recording.RecordingError("endtime is not after starttime")
    return start, end, _scale(q.get("speed"))


def parse_clock_range(text: str) -> tuple[int, int | None]:
    """`clock=20261202T140000Z-20261202T141000Z` (the end may be empty)."""
    value = text.strip()
    if not value.startswith("clock="):
        raise recording.RecordingError(f"expected a clock range, got {text!r}")
    first, _, last = value[len("clock=") :].partition("-")
    start = recording.parse_clock(first)
    end = recording.parse_clock(last) if last.strip() else None
    return start, end


def parameter_sets(unit: bytes) -> bytes:
    """The SPS and PPS NAL units of an Annex-B access unit, with start codes."""
    nals = [n for n in unit.split(b"\x00\x00\x01") if n]
    keep = [n.rstrip(b"\x00") for n in nals if n[0] & 0x1F in (7, 8)]
    return b"".join(b"\x00\x00\x00\x01" + n for n in keep)


class Feeder:
    """Pushes the recording's access units into one client's appsrc at the asked pace."""

    def __init__(self, folder: Path, appsrc):
        self.folder = folder
        self.src = appsrc
        self.start_ms: int | None = None
        self.end_ms: int | None = None
        self.speed = 1.0
        self.keys_only = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def prime(self) -> bool:
        """Push the parameter sets (SPS, PPS) of the recording's key frame at the start
        (else its first) so that the media prerolls and DESCRIBE has the stream's
        parameters; no picture, so the client's first picture is the one PLAY asks for."""
        start = self.start_ms if self.start_ms is not None else 0
        try:
            for path, unit in recording.units_from(self.folder, start, None, True):
                with open(path, "rb") as f:
                    f.seek(unit.offset)
                    data = f.read(unit.size)
                sets = parameter_sets(data)
                if sets:
                    self.src.emit("push-buffer", Gst.Buffer.new_wrapped(sets))
                    return True
        except recording.RecordingError:
            pass
        return False

    def play(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="replay-feed", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            self._feed()
        except Exception as exc:  # a broken segment ends this client's stream, loudly
            sys.stderr.write(f"camsim: replay: {type(exc).__name__}: {exc}\n")
        self.src.emit("end-of-stream")

    def _feed(self) -> None:
        start = self.start_ms if self.start_ms is not None else 0
        keys = self.keys_only or self.speed > KEYS_ONLY_ABOVE
        files: dict[Path, object] = {}
        base_ms = None
        t0 = time.monotonic()
        prev_ms = None
        try:
            for path, unit in recording.units_from(self.folder, start, self.end_ms, keys):
                if self._stop.is_set():
                    return
                if base_ms is None or (
                    prev_ms is not None and unit.ms - prev_ms > recording.GAP_MS
                ):
                    # paced from the asked time: the pictures from the key frame before it
                    # go at once (a client probing the stream gets them without waiting)
                    base_ms = max(unit.ms, start) if base_ms is None else unit.ms
                    t0 = time.monotonic()
                prev_ms = unit.ms
                due = t0 + (unit.ms - base_ms) / 1000.0 / self.speed
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    return
                f = files.get(path)
                if f is None:
                    for old in files.values():
                        old.close()
                    files.clear()
                    f = files[path] = open(path, "rb")  # noqa: SIM115
                f.seek(unit.offset)
                self.src.emit("push-buffer", Gst.Buffer.new_wrapped(f.read(unit.size)))
        finally:
            for f in files.values():
                f.close()


class ReplayFactory(GstRtspServer.RTSPMediaFactory):
    """One media per client (not shared), built from the request's URL."""

    def __init__(self, folder: Path, form: str):
        super().__init__()
        self.folder = folder
        self.form = form
        self.feeders: dict[str, Feeder] = {}
        self._n = 0
        self.set_shared(False)
        self.set_launch(self._launch("replay"))  # replaced per request below

    @staticmethod
    def _launch(name: str) -> str:
        return (
            f"( appsrc name=src is-live=true format=time do-timestamp=true "
            f'caps="{H264_CAPS}" ! {encoding.payloader("h264")} )'
        )

    def do_create_element(self, url):
        self._n += 1
        name = f"replay{self._n}"
        start, end, speed = (None, None, 1.0)
        if self.form == "nvr":
            start, end, speed = parse_nvr_query(url.query)
        bin_ = Gst.parse_launch(self._launch(name))
        bin_.set_name(name)
        feeder = Feeder(self.folder, bin_.get_by_name("src"))
        feeder.start_ms, feeder.end_ms, feeder.speed = start, end, speed
        self.feeders[name] = feeder
        return bin_

    def do_media_configure(self, media):
        name = media.get_element().get_name()
        feeder = self.feeders.get(name)

        def unprepared(_m):
            f = self.feeders.pop(name, None)
            if f is not None:
                f.stop()

        if feeder is not None:
            media.connect("unprepared", unprepared)
            if not feeder.prime():
                sys.stderr.write(f"camsim: replay: no recording in {self.folder}\n")


def add_factories(mounts, folder: Path, with_auth: bool) -> list[ReplayFactory]:
    """Mount both replay forms; with auth, only the `viewer` role may use them."""
    out = []
    for path, form in ((NVR_PATH, "nvr"), (ONVIF_PATH, "onvif")):
        f = ReplayFactory(folder, form)
        if with_auth:
            perms = GstRtspServer.RTSPPermissions()
            perms.add_permission_for_role("viewer", "media.factory.access", True)
            perms.add_permission_for_role("viewer", "media.factory.construct", True)
            f.set_permissions(perms)
        mounts.add_factory(path, f)
        out.append(f)
    return out


def on_pre_describe(ctx) -> GstRtsp.RTSPStatusCode:
    """A malformed time in the NVR form is refused before any media is made."""
    uri = ctx.uri
    if uri is None or not uri.abspath.startswith(NVR_PATH):
        return GstRtsp.RTSPStatusCode.OK
    try:
        start, _end, _speed = parse_nvr_query(uri.query)
    except recording.RecordingError as exc:
        sys.stderr.write(f"camsim: replay DESCRIBE refused: {exc}\n")
        return GstRtsp.RTSPStatusCode.BAD_REQUEST
    return GstRtsp.RTSPStatusCode.OK if start is not None else GstRtsp.RTSPStatusCode.BAD_REQUEST


def _header(ctx, field) -> str | None:
    res, value = ctx.request.get_header(field, 0)
    return value if res == GstRtsp.RTSPResult.OK else None


def on_pre_play(factories: list[ReplayFactory], ctx) -> GstRtsp.RTSPStatusCode:
    """PLAY on a replay media: take Range (clock) and Scale, start the feeder."""
    if ctx.media is None:
        return GstRtsp.RTSPStatusCode.OK
    name = ctx.media.get_element().get_name()

    feeder = next((f.feeders[name] for f in factories if name in f.feeders), None)
    if feeder is None:
        return GstRtsp.RTSPStatusCode.OK
    try:
        rng = _header(ctx, GstRtsp.RTSPHeaderField.RANGE)
        if rng is not None and rng.strip().startswith("clock="):
            feeder.start_ms, feeder.end_ms = parse_clock_range(rng)
        scale = _header(ctx, GstRtsp.RTSPHeaderField.SCALE)
        if scale is not None:
            feeder.speed = _scale(scale)
        frames = _header(ctx, GstRtsp.RTSPHeaderField.FRAMES)
        feeder.keys_only = frames is not None and frames.strip().startswith("intra")
    except recording.RecordingError as exc:
        sys.stderr.write(f"camsim: replay PLAY refused: {exc}\n")
        return GstRtsp.RTSPStatusCode.INVALID_RANGE
    if feeder.start_ms is None:
        return GstRtsp.RTSPStatusCode.INVALID_RANGE
    # the media is live: a Range or Scale left here would make the server seek it
    ctx.request.remove_header(GstRtsp.RTSPHeaderField.RANGE, -1)
    ctx.request.remove_header(GstRtsp.RTSPHeaderField.SCALE, -1)
    feeder.play()
    return GstRtsp.RTSPStatusCode.OK


def on_requirements(_client, _ctx, reqs) -> str:
    """`Require:` values the server does not support (onvif-replay is supported)."""
    unsupported = [r for r in (reqs or []) if r.strip() != "onvif-replay"]
    return ", ".join(unsupported)


def main() -> int:
    """`backfill`: one JSON line on stdin (see `backfill`); prints `OK <units>`."""
    Gst.init(None)
    cfg = json.loads(sys.stdin.readline())
    units = backfill(cfg)
    print(f"OK {units}", flush=True)
    return 0
