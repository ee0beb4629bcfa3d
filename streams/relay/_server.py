"""hall-relay's RTSP server: runs under the system Python (/usr/bin/python3) with gi.

Not imported by the venv side: `streams.relay.server.RelayServer` runs this file as a
script.

Protocol (stdin / stdout, one line each):
- stdin, first line: the spec as JSON (`streams.relay.spec.RelaySpec.to_json`): where to
  listen, the timeouts, the clients' credentials if any, and the mounts, each with its
  upstream URL and the upstream's credentials (on stdin, never on the command line).
- stdout: `READY {"port": p, "mounts": {path: url}}` once it listens; then one
  `STATE {json}` line whenever an upstream's state or client count changes (path, camera,
  stream, state idle|connecting|live|failed, error, clients, since).
- stdin, then: `states` (every upstream's STATE line, then `OK states`), `quit`.
- stdin end of file, SIGTERM or SIGINT: clean shutdown.

Design: one `Upstream` per mount pulls the camera once (`rtspsrc ! rtph26Xdepay ! h26Xparse
! identity ! appsink`, no decode; the codec from the camera's RTP caps) when a client asks
for the mount, and keeps the access units since the last key frame. Each mount's factory
is shared: one media (`appsrc ! h26Xparse ! rtph26Xpay`) serves every client of that
mount; a new media first gets the kept group of pictures (its picture starts at once),
then every access unit as it arrives. A client's DESCRIBE waits (in its own thread of the
server's pool) until the upstream is live, or is answered 503 when the upstream fails or
waits out its backoff. A failed upstream closes its clients' sessions (they see the end of
the stream, as from a camera that died) and is retried with backoff while somebody watched
it within `idle_s`; an upstream nobody watched for `idle_s` is dropped (idle). A patrol
probe (`?patrol=1` on the mount's URL) holds the upstream only `probe_idle_s` (0) after it
leaves, so a patrol of thousands of cameras does not keep them all pulled; a viewer's hold
(`idle_s`) wins while the upstream runs. An upstream only probes asked for passes key
frames only (an `identity` drops the delta frames before Python sees them: a probe decodes
key frames only); a viewer joining it turns the deltas on and waits for the next one. A
connect that timed out says whether the camera's data had begun (`answered`: only its key
frame was late) and whether the relay was starved (its main loop late by over
`BUSY_LAG_S`): the patrol judges neither an offline camera. Errors never carry credentials.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from _relay_text import error_text, log, redact, say  # noqa: E402  (this script's folder)
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

IDLE, CONNECTING, LIVE, FAILED = "idle", "connecting", "live", "failed"
GOP_LIMIT = 150  # access units kept for a new client at most (6 s at 25 fps)
TICK_MS = 200
COUNT_EVERY = 5  # ticks between client counts (a walk over every session)
BUSY_LAG_S = 0.5  # the main loop this late: the relay is starved of CPU ("relay busy")
CODECS = {
    "H264": ("rtph264depay", "h264parse", "video/x-h264", "rtph264pay"),
    "H265": ("rtph265depay", "h265parse", "video/x-h265", "rtph265pay"),
}
KEEP = GstRtspServer.RTSPFilterResult.KEEP
REMOVE = GstRtspServer.RTSPFilterResult.REMOVE


def served_launch(codec):
    _depay, parse, caps, pay = CODECS[codec]
    return (
        "( appsrc name=src is-live=true format=time do-timestamp=true block=false "
        f'max-buffers=0 caps="{caps},stream-format=byte-stream,alignment=au" '
        f"! {parse} config-interval=-1 ! {pay} name=pay0 pt=96 config-interval=-1 )"
    )


class Upstream:
    """One camera stream, pulled once for every client of its mount."""

    def __init__(self, cfg, relay):
        self.relay = relay
        self.path = cfg["path"]
        self.camera = cfg["camera"]
        self.stream = cfg["stream"]
        self.location = cfg["upstream"]
        self.user = cfg.get("user") or None
        self.password = cfg.get("password") or ""
        self.secrets = tuple(s for s in (self.user, self.password) if s)
        self.lock = threading.Condition()
        self.state = IDLE
        self.error = ""
        self.since = time.time()
        self.clients = 0
        self.codec = None
        self.pipeline = None
        self.generation = 0
        self.sinks = {}  # id(media) -> (media, appsrc)
        self.gop = []
        self.started_at = 0.0
        self.last_data = 0.0
        self.wanted_until = 0.0
        self.hold_s = 0.0  # idle_s once a viewer asked; probe_idle_s for patrol probes only
        self.waiting = 0  # clients' DESCRIBEs waiting for the upstream
        self.failures = 0
        self.next_try = 0.0
        self.pulls = 0  # upstream sessions opened (for tests and the bench)
        self.gate = None  # the identity before the appsink (drops deltas while key-only)
        self.key_only = False
        self.answered = False  # the camera's data began (rtspsrc added its pad)

    # -- what a client's DESCRIBE asks (a thread of the server's pool) -----------------
    def want(self, hold_s=None):
        """The codec once the upstream is live, or None (failed, backing off, timed out).

        The upstream is kept at least `hold_s` (default `idle_s`; a patrol probe's
        `probe_idle_s`) after this, and after its last client leaves."""
        spec = self.relay.spec
        deadline = time.monotonic() + float(spec["open_timeout_s"])
        hold = float(spec["idle_s"]) if hold_s is None else hold_s
        with self.lock:
            now = time.monotonic()
            self.hold_s = max(self.hold_s, hold)
            self.wanted_until = max(self.wanted_until, now + hold)
            if self.state == FAILED and now < self.next_try:
                return None
            if self.state in (IDLE, FAILED):
                self._start_locked()
            elif self.key_only and self.hold_s >= float(spec["idle_s"]):
                self._full_locked()  # a viewer on a probe's upstream: deltas from a key
            self.waiting += 1  # wanted while a client waits, however short its hold
            try:
                while self.state == CONNECTING or (self.state == LIVE and not self.gop):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self.lock.wait(left)
                return self.codec if self.state == LIVE else None
            finally:
                self.waiting -= 1
                self.wanted_until = max(self.wanted_until, time.monotonic() + hold)

    # -- the upstream pipeline -------------------------------------------------------------
    def _full_locked(self):
        self.key_only = False
        if self.gate is not None:
            self.gate.set_property("drop-buffer-flags", 0)
        self.gop = []  # the kept key frame has no deltas after it: wait for the next one

    def _start_locked(self):
        self.generation += 1
        gen = self.generation
        pipe = Gst.Pipeline.new(f"up{gen}")
        src = Gst.ElementFactory.make("rtspsrc", None)
        src.set_property("location", self.location)
        src.set_property("latency", 0)
        src.set_property("protocols", GstRtsp.RTSPLowerTrans.TCP)
        src.set_property("tcp-timeout", int(float(self.relay.spec["open_timeout_s"]) * 1e6))
        if self.user:
            src.set_property("user-id", self.user)
            src.set_property("user-pw", self.password)
        pipe.add(src)
        src.connect("pad-added", self._on_pad, pipe, gen)
        bus = pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._on_message, gen)
        self.pipeline = pipe
        self.codec = None
        self.gop = []
        self.gate = None
        self.key_only = self.hold_s < float(self.relay.spec["idle_s"])  # probes only
        self.answered = False
        self.pulls += 1
        self._set_locked(CONNECTING, "")
        self.started_at = time.monotonic()
        pipe.set_state(Gst.State.PLAYING)

    def _on_pad(self, _src, pad, pipe, gen):
        caps = pad.get_current_caps() or pad.query_caps(None)
        st = caps.get_structure(0)
        if st.get_name() != "application/x-rtp" or st.get_string("media") != "video":
            # audio (many cameras send it): swallowed by a fakesink rather than left unlinked
            sink = Gst.ElementFactory.make("fakesink", None)
            sink.set_property("sync", False)
            sink.set_property("async", False)
            pipe.add(sink)
            sink.sync_state_with_parent()
            pad.link(sink.get_static_pad("sink"))
            return
        name = (st.get_string("encoding-name") or "").upper()
        if name not in CODECS:
            self._fail(gen, f"unsupported video codec {name or '?'}")
            return
        depay_name, parse_name, caps_name, _pay = CODECS[name]
        depay = Gst.ElementFactory.make(depay_name, None)
        parse = Gst.ElementFactory.make(parse_name, None)
        filt = Gst.ElementFactory.make("capsfilter", None)
        filt.set_property(
            "caps", Gst.Caps.from_string(f"{caps_name},stream-format=byte-stream,alignment=au")
        )
        sink = Gst.ElementFactory.make("appsink", None)
        sink.set_property("emit-signals", True)
        sink.set_property("sync", False)
        sink.set_property("max-buffers", 8)
        sink.set_property("drop", True)
        sink.connect("new-sample", self._on_sample, gen)
        gate = Gst.ElementFactory.make("identity", None)
        with self.lock:
            if gen == self.generation:
                self.gate = gate
                if self.key_only:
                    gate.set_property("drop-buffer-flags", Gst.BufferFlags.DELTA_UNIT)
        for e in (depay, parse, filt, gate, sink):
            pipe.add(e)
        depay.link(parse)
        parse.link(filt)
        filt.link(gate)
        gate.link(sink)
        for e in (sink, gate, filt, parse, depay):
            e.sync_state_with_parent()
        with self.lock:
            if gen == self.generation:
                self.codec = name
                self.answered = True
        pad.link(depay.get_static_pad("sink"))

    def _on_sample(self, sink, gen):
        sample = sink.emit("pull-sample")
        if sample is None:
            return Gst.FlowReturn.OK
        buf = sample.get_buffer()
        key = not buf.has_flags(Gst.BufferFlags.DELTA_UNIT)
        with self.lock:
            if gen != self.generation:
                return Gst.FlowReturn.OK
            self.last_data = time.monotonic()
            if key:
                self.gop = [buf]
            elif self.gop and len(self.gop) < GOP_LIMIT:
                self.gop.append(buf)
            if self.state != LIVE and self.gop:
                self.failures = 0
                self._set_locked(LIVE, "")
            sinks = [src for _m, src in self.sinks.values()]
        for src in sinks:
            src.emit("push-buffer", _fresh(buf))
        return Gst.FlowReturn.OK

    def _on_message(self, _bus, msg, gen):
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            self._fail(gen, redact(error_text(err.message, debug), self.secrets))
        elif msg.type == Gst.MessageType.EOS:
            self._fail(gen, "the camera ended the stream")

    def _fail(self, gen, error):
        with self.lock:
            if gen != self.generation or self.state == FAILED:
                return
            self._stop_locked()
            self.failures += 1
            backoff = min(
                float(self.relay.spec["backoff_max_s"]),
                float(self.relay.spec["backoff_s"]) * 2 ** (self.failures - 1),
            )
            self.next_try = time.monotonic() + backoff
            if self.hold_s < float(self.relay.spec["idle_s"]):
                self.wanted_until = 0.0  # only probes asked: no retry, failed it stays
            self._set_locked(FAILED, error)
            medias = [m for m, _src in self.sinks.values()]
        GLib.idle_add(self.relay.drop_clients, medias)

    def _stop_locked(self):
        self.generation += 1
        pipe, self.pipeline = self.pipeline, None
        self.gop = []
        self.codec = None
        if pipe is not None:
            bus = pipe.get_bus()
            bus.remove_signal_watch()
            # NULL can block on a hung camera: off the main loop
            threading.Thread(target=pipe.set_state, args=(Gst.State.NULL,), daemon=True).start()

    def _set_locked(self, state, error):
        if state != self.state or error != self.error:
            self.state = state
            self.error = error
            self.since = time.time()
            self.lock.notify_all()
            self.relay.report(self)

    # -- the served side ---------------------------------------------------------------------
    def attach(self, media, src):
        with self.lock:  # under the lock: no live access unit can overtake the kept ones
            self.sinks[id(media)] = (media, src)
            for buf in self.gop:  # the picture starts at once, from the last key frame
                src.emit("push-buffer", _fresh(buf))

    def detach(self, media):
        with self.lock:
            self.sinks.pop(id(media), None)
            if not self.sinks:
                self.wanted_until = time.monotonic() + self.hold_s

    # -- the watchdog (main loop) --------------------------------------------------------------
    def tick(self, now, clients):
        spec = self.relay.spec
        with self.lock:
            gen = self.generation
            if clients != self.clients:
                self.clients = clients
                self.relay.report(self)
            state = self.state
            wanted = bool(self.sinks) or self.waiting > 0 or now < self.wanted_until
            if state == CONNECTING and now - self.started_at > float(spec["open_timeout_s"]):
                failure = f"no picture from the camera within {spec['open_timeout_s']:g} s"
                if self.answered:  # its data began: only the key frame was late
                    failure = f"{failure} (it answered, no key frame yet)"
                lag = self.relay.lag_since(self.started_at)
                if lag > BUSY_LAG_S:
                    failure = f"{failure} (relay busy: its loop ran {lag:.1f} s late)"
            elif state == LIVE and now - self.last_data > float(spec["read_timeout_s"]):
                failure = f"no data from the camera for {spec['read_timeout_s']:g} s"
            else:
                failure = None
            # nobody wants it: a running upstream is dropped; a failed one stays failed
            # with its error (the last fact known of the camera) and is not retried
            if failure is None and not wanted and state in (CONNECTING, LIVE):
                self._stop_locked()
                self.failures = 0
                self.hold_s = 0.0
                self._set_locked(IDLE, "")
            elif failure is None and wanted and state == FAILED and now >= self.next_try:
                self._start_locked()
        if failure is not None:
            self._fail(gen, failure)

    def info(self):
        keys = ("path", "camera", "stream", "state", "error", "clients", "since", "pulls")
        return {k: getattr(self, k) for k in keys}


def _has_authorization(ctx):
    """Whether the request carries credentials at all (checked by the server after this)."""
    if ctx.request is None:
        return False
    res, _value = ctx.request.get_header(GstRtsp.RTSPHeaderField.AUTHORIZATION, 0)
    return res == GstRtsp.RTSPResult.OK


def _is_probe(ctx):
    """A patrol probe (`?patrol=1` on the URL): the upstream is held only `probe_idle_s`."""
    query = ctx.uri.query if ctx.uri is not None else None
    return bool(query) and "patrol=1" in query.split("&")


def _fresh(buf):
    """A copy of `buf` (shared memory) the appsrc may timestamp."""
    out = buf.copy()
    out.pts = Gst.CLOCK_TIME_NONE
    out.dts = Gst.CLOCK_TIME_NONE
    return out


class Factory(GstRtspServer.RTSPMediaFactory):
    """A mount's shared factory: builds the served media once the upstream is live."""

    def __init__(self, upstream):
        super().__init__()
        self.upstream = upstream
        self.set_shared(True)
        self.connect("media-configure", self._on_configure)

    def do_create_element(self, _url):
        codec = self.upstream.want(0.0)  # live already: the DESCRIBE waited (and held) it
        if codec is None:
            return None  # lost in between: the client gets an error and tries again
        return Gst.parse_launch(served_launch(codec))

    def _on_configure(self, _factory, media):
        src = media.get_element().get_by_name("src")
        self.upstream.attach(media, src)
        media.connect("unprepared", self.upstream.detach)


class Relay:
    def __init__(self, spec):
        self.spec = spec
        self.loop = GLib.MainLoop()
        self.upstreams = [Upstream(m, self) for m in spec["mounts"]]
        self.server = None
        self.port = 0
        self.ticks = 0
        self.counts = {}
        self.last_tick = 0.0
        self.lags = []  # (when, how late) of the main loop's late ticks, the last minute

    def lag_since(self, since):
        """How late the main loop ran at most since `since` (monotonic), seconds."""
        return max((lag for at, lag in self.lags if at >= since), default=0.0)

    def report(self, up):
        say("STATE " + json.dumps(up.info(), ensure_ascii=False))

    def start(self):
        server = GstRtspServer.RTSPServer()
        server.set_address(self.spec.get("host", "127.0.0.1"))
        server.set_service(str(int(self.spec.get("port", 0))))
        server.set_backlog(256)
        server.get_thread_pool().set_max_threads(-1)  # a waiting DESCRIBE holds no one up
        auth = self.spec.get("auth")
        if auth:
            ra = GstRtspServer.RTSPAuth()
            ra.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            token = GstRtspServer.RTSPToken()
            token.set_string("media.factory.role", "viewer")
            ra.add_digest(auth[0], auth[1], token)
            server.set_auth(ra)
        server.connect("client-connected", self._on_client)
        mounts = server.get_mount_points()
        for up in self.upstreams:
            f = Factory(up)
            if auth:
                perms = GstRtspServer.RTSPPermissions()
                perms.add_permission_for_role("viewer", "media.factory.access", True)
                perms.add_permission_for_role("viewer", "media.factory.construct", True)
                f.set_permissions(perms)
            mounts.add_factory(up.path, f)
        if server.attach(None) == 0:
            raise RuntimeError(f"cannot listen on port {self.spec.get('port', 0)}")
        self.server = server
        self.port = server.get_bound_port()
        GLib.timeout_add(TICK_MS, self._tick)
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, self._quit)
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, self._quit)
        threading.Thread(target=self._read_stdin, name="stdin", daemon=True).start()
        host = self.spec.get("host", "127.0.0.1")
        paths = {up.path: f"rtsp://{host}:{self.port}{up.path}" for up in self.upstreams}
        say("READY " + json.dumps({"port": self.port, "mounts": paths}, ensure_ascii=False))

    # -- clients -------------------------------------------------------------------------------
    def _on_client(self, _server, client):
        client.connect("pre-describe-request", self._on_describe)

    def _on_describe(self, _client, ctx):
        """Waits (in the client's own thread) until the mount's upstream is live: 503 if not."""
        path = ctx.uri.abspath if ctx.uri is not None else ""
        if self.spec.get("auth") and not _has_authorization(ctx):
            return GstRtsp.RTSPStatusCode.OK  # the server answers 401: no camera is asked
        hold = float(self.spec.get("probe_idle_s", 0.0)) if _is_probe(ctx) else None
        for up in self.upstreams:
            mine = path == up.path or path.startswith(up.path + "/")
            if mine and up.want(hold) is None:
                return GstRtsp.RTSPStatusCode.SERVICE_UNAVAILABLE
        return GstRtsp.RTSPStatusCode.OK

    def _client_counts(self):
        counts = {}
        by_media = {}
        for up in self.upstreams:
            with up.lock:
                for key in up.sinks:
                    by_media[key] = up

        def per_media(_session, sm, *_a):
            up = by_media.get(id(sm.get_media()))
            if up is not None:
                counts[up.path] = counts.get(up.path, 0) + 1
            return KEEP

        def per_session(_pool, session, *_a):
            session.filter(per_media, None)
            return KEEP

        self.server.get_session_pool().filter(per_session, None)
        return counts

    def drop_clients(self, medias):
        """Close the connections of every client watching one of `medias` (main loop)."""
        keys = {id(m) for m in medias}
        if not keys:
            return False

        def per_client(_server, client, *_a):
            hit = []

            def per_session(_client, session, *_b):
                def per_media(_s, sm, *_c):
                    if id(sm.get_media()) in keys:
                        hit.append(True)
                    return KEEP

                session.filter(per_media, None)
                return KEEP

            client.session_filter(per_session, None)
            return REMOVE if hit else KEEP

        self.server.client_filter(per_client, None)
        return False

    def _tick(self):
        now = time.monotonic()
        if self.last_tick and now - self.last_tick - TICK_MS / 1000 > BUSY_LAG_S / 2:
            self.lags = [x for x in self.lags if x[0] > now - 60.0]
            self.lags.append((now, now - self.last_tick - TICK_MS / 1000))
        self.last_tick = now
        self.ticks += 1
        if self.ticks % COUNT_EVERY == 0:
            self.counts = self._client_counts()
        for up in self.upstreams:
            up.tick(now, self.counts.get(up.path, 0))
        return True

    # -- control ---------------------------------------------------------------------------------
    def _read_stdin(self):
        for raw in sys.stdin:
            line = raw.strip()
            if line:
                GLib.idle_add(self._control, line)
        GLib.idle_add(self._quit)

    def _control(self, line):
        if line == "quit":
            say(f"OK {line}")
            self._quit()
        elif line == "states":
            for up in self.upstreams:
                self.report(up)
            say(f"OK {line}")
        else:
            say(f"ERR {line}: expected states or quit")
        return False

    def _quit(self, *_a):
        for up in self.upstreams:
            with up.lock:
                up._stop_locked()
        GLib.timeout_add(150, self.loop.quit)
        return False

    def run(self):
        self.loop.run()


def main():
    Gst.init(None)
    line = sys.stdin.readline()
    if not line:
        log("no spec on stdin")
        return 2
    try:
        relay = Relay(json.loads(line))
        relay.start()
    except Exception as exc:  # reported to the parent, which shows stderr
        log(f"cannot start: {type(exc).__name__}: {redact(str(exc))}")
        return 1
    relay.run()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # finalising GStreamer objects from Python's exit handlers can crash


if __name__ == "__main__":
    sys.exit(main())
