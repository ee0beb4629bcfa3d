"""Evidence from a live camera: a ring of encoded packets, clips by remux, PNG snapshots.

The ring keeps the last `max_seconds` of ENCODED packets (bounded by bytes too), always
starting at a key frame, so "save the last 30 seconds" is a remux to MP4 without
re-encoding. Clips and snapshots are written atomically (temp file, fsync, rename); a clip
gets a `<name>.mp4.sha256` sidecar in `sha256sum` format.

The ring is filled by the decode thread and read by whoever saves (the UI's worker): all
access goes through one lock, and what leaves the ring is an immutable copy.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.container import OutputContainer
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from streams.ingest.blocks import BLOCK_BYTES, PacketBlocks
from streams.private import private_dir, private_file


class EvidenceError(Exception):
    """Nothing to save, or the evidence could not be written; the message says which.
    `no_space`: the evidence folder's disk is full (nothing was left behind: no partial
    file, no clip without its `.sha256`); saving works again once there is room."""

    def __init__(self, message: str, *, no_space: bool = False) -> None:
        super().__init__(message)
        self.no_space = no_space


def _no_space(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)


def _write_failed(camera_id: str, what: str, final: Path, exc: BaseException) -> EvidenceError:
    if _no_space(exc):
        return EvidenceError(
            f"camera {camera_id}: {what} not saved: the disk of {final.parent} is full",
            no_space=True,
        )
    return EvidenceError(f"camera {camera_id}: could not write {what} {final}: {exc}")


@dataclass(frozen=True, slots=True)
class RingPacket:
    """One encoded packet, copied out of FFmpeg's buffers (a live ring's payloads are
    views of its own blocks, `streams.ingest.blocks`)."""

    data: bytes | memoryview
    pts: int | None
    dts: int | None
    keyframe: bool

    @property
    def ts(self) -> int | None:
        """The decode-order timestamp (dts, else pts) in the stream's time base."""
        return self.dts if self.dts is not None else self.pts


class ClipTemplate:
    """The codec parameters of one stream session, independent of the input container.

    The input container is closed when the session ends; its streams must not be touched
    after that. This copies the parameters (codec, size, SPS/PPS extradata) into a stream
    of a never-started in-memory MP4 container, which lives as long as the template.
    """

    def __init__(self, holder: OutputContainer, stream: VideoStream, time_base: Fraction) -> None:
        self._holder = holder  # keeps `stream` alive
        self.stream = stream
        self.time_base = time_base

    @classmethod
    def from_stream(cls, stream: VideoStream) -> ClipTemplate:
        """Copy `stream`'s codec parameters (call in the thread that owns `stream`)."""
        if stream.time_base is None:
            raise EvidenceError("stream has no time base; cannot keep packets for clips")
        holder = av.open(io.BytesIO(), "w", format="mp4")
        copy = holder.add_stream_from_template(stream)
        return cls(holder, copy, Fraction(stream.time_base))


@dataclass(frozen=True, slots=True)
class ClipSource:
    """What `PacketRing.clip` hands out: an immutable copy to remux from."""

    template: ClipTemplate
    packets: tuple[RingPacket, ...]

    @property
    def duration_s(self) -> float:
        return _span_s(self.packets, self.template.time_base)


def _span_s(packets: Sequence[RingPacket], time_base: Fraction) -> float:
    stamps = [p.ts for p in packets if p.ts is not None]
    if len(stamps) < 2:
        return 0.0
    return float((max(stamps) - min(stamps)) * time_base)


class _Gop:
    __slots__ = ("nbytes", "packets", "start")

    def __init__(self, first: RingPacket, start: int) -> None:
        self.packets: list[RingPacket] = [first]
        self.nbytes = len(first.data)
        self.start = start


class PacketRing:
    """The last `max_seconds` (and at most `max_bytes`) of one session's packets, by GOP.

    Whole groups of pictures are dropped from the front, so the ring always starts at a
    key frame; a new session (reconnect, sub <-> main switch) starts a new ring, because
    its codec parameters may differ.
    """

    def __init__(
        self,
        max_seconds: float,
        max_bytes: int = 64 * 1024 * 1024,
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        if max_seconds <= 0:
            raise ValueError(f"ring_seconds must be positive, got {max_seconds}")
        if max_bytes <= 0:
            raise ValueError(f"ring max_bytes must be positive, got {max_bytes}")
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._template: ClipTemplate | None = None
        self._gops: deque[_Gop] = deque()
        self._nbytes = 0
        self._last_ts: int | None = None
        self._span_ticks = 0  # max_seconds in the session's time base (Fractions are slow)
        self._blocks = PacketBlocks(block_bytes)  # the payloads of `keep`

    def begin(self, template: ClipTemplate) -> None:
        """Start a new session: the old packets are dropped."""
        with self._lock:
            self._template = template
            self._span_ticks = int(self.max_seconds / template.time_base)
            self._gops.clear()
            self._nbytes = 0
            self._last_ts = None

    def keep(self, packet: Packet[Any]) -> None:
        """Append an FFmpeg packet (decode order), its payload copied into the ring's own
        blocks, not into the heap (see `streams.ingest.blocks`). Called from one thread."""
        data = self._blocks.copy(packet.buffer_ptr, packet.buffer_size)
        self.add(RingPacket(data, packet.pts, packet.dts, packet.is_keyframe))

    @property
    def blocks(self) -> tuple[int, int]:
        """(blocks mapped for payloads so far, those still mapped): tests, diagnostics."""
        return self._blocks.mapped, self._blocks.live

    def add(self, packet: RingPacket) -> None:
        """Append one packet (decode order). Packets before the first key frame are ignored."""
        ts = packet.ts
        with self._lock:
            if self._template is None or ts is None:
                return
            if self._last_ts is not None and ts < self._last_ts:
                # timestamps went backwards (camera restarted its clock): start afresh
                self._gops.clear()
                self._nbytes = 0
            self._last_ts = ts
            if packet.keyframe:
                self._gops.append(_Gop(packet, ts))
            elif self._gops:
                gop = self._gops[-1]
                gop.packets.append(packet)
                gop.nbytes += len(packet.data)
            else:
                return
            self._nbytes += len(packet.data)
            self._trim(ts)

    def _trim(self, newest: int) -> None:
        horizon = newest - self._span_ticks
        # drop the oldest GOP while the next one still starts early enough to cover max_seconds
        while len(self._gops) > 1 and self._gops[1].start <= horizon:
            self._nbytes -= self._gops.popleft().nbytes
        while len(self._gops) > 1 and self._nbytes > self.max_bytes:
            self._nbytes -= self._gops.popleft().nbytes
        if self._nbytes > self.max_bytes:  # one GOP alone is too large: keep nothing
            self._gops.clear()
            self._nbytes = 0

    def _packets(self) -> Iterator[RingPacket]:
        for gop in self._gops:
            yield from gop.packets

    @property
    def nbytes(self) -> int:
        with self._lock:
            return self._nbytes

    def span_s(self) -> float:
        """Seconds between the oldest and the newest packet held."""
        with self._lock:
            if self._template is None or not self._gops:
                return 0.0
            last = self._last_ts if self._last_ts is not None else self._gops[0].start
            return float((last - self._gops[0].start) * self._template.time_base)

    def clip(self, seconds: float) -> ClipSource | None:
        """The last `seconds`, from the key frame at or before the start; None if empty."""
        if seconds <= 0:
            raise ValueError(f"clip length must be positive, got {seconds}")
        with self._lock:
            if self._template is None or not self._gops or self._last_ts is None:
                return None
            start = self._last_ts - int(seconds / self._template.time_base)
            first = 0
            for i, gop in enumerate(self._gops):
                if gop.start <= start:
                    first = i
            packets = tuple(p for gop in list(self._gops)[first:] for p in gop.packets)
            return ClipSource(self._template, packets)


# --- files -----------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def evidence_name(camera_id: str, when: datetime, suffix: str) -> str:
    """`<camera id>_<YYYYmmdd-HHMMSS>_<ms><suffix>`, safe on every file system."""
    safe_id = _UNSAFE.sub("_", camera_id).strip("._") or "camera"
    stamp = when.strftime("%Y%m%d-%H%M%S") + f"_{when.microsecond // 1000:03d}"
    return f"{safe_id}_{stamp}{suffix}"


def _unique(path: Path) -> Path:
    if not path.exists():
        return path
    n = 2
    while (candidate := path.with_name(f"{path.stem}-{n}{path.suffix}")).exists():
        n += 1
    return candidate


def _fsync_replace(tmp: Path, final: Path) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, final)


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    try:
        private_file(tmp)
        tmp.write_bytes(data)
        _fsync_replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_sidecar(path: Path) -> Path:
    """Write `<path>.sha256` in `sha256sum` format (`<hex>  <file name>`)."""
    sidecar = path.with_name(path.name + ".sha256")
    _write_bytes_atomic(sidecar, f"{sha256_file(path)}  {path.name}\n".encode())
    return sidecar


def _prepare_folder(folder: Path) -> None:
    try:
        private_dir(folder)
    except OSError as exc:
        raise EvidenceError(f"cannot create evidence folder {folder}: {exc.strerror}") from exc
    if not folder.is_dir():
        raise EvidenceError(f"evidence folder {folder} is not a directory")


def write_clip(
    source: ClipSource, folder: Path, camera_id: str, camera_name: str, when: datetime
) -> Path:
    """Remux `source` to `<folder>/<camera>_<time>.mp4` (no re-encoding) plus its sidecar.

    Timestamps are rebased so the clip starts at 0.
    """
    if not source.packets:
        raise EvidenceError(f"camera {camera_id}: no packets to save")
    _prepare_folder(folder)
    final = _unique(folder / evidence_name(camera_id, when, ".mp4"))
    tmp = final.with_name(f".{final.name}.part")
    tb = source.template.time_base
    base = min(p.ts for p in source.packets if p.ts is not None)
    try:
        private_file(tmp)
        with av.open(str(tmp), "w", format="mp4") as out:
            out.metadata["title"] = camera_name
            out.metadata["comment"] = f"camera_id={camera_id}"
            out.metadata["creation_time"] = when.astimezone().isoformat()
            ostream = out.add_stream_from_template(source.template.stream)
            last_dts: int | None = None
            for p in source.packets:
                dts = p.ts
                if dts is None:
                    continue
                dts -= base
                if last_dts is not None and dts <= last_dts:
                    dts = last_dts + 1  # the muxer needs strictly increasing dts
                last_dts = dts
                pts = p.pts - base if p.pts is not None else dts
                pkt = av.Packet(p.data)  # type: ignore[arg-type]  # any buffer (PyAV's stub: bytes)
                pkt.dts = dts
                pkt.pts = max(pts, dts)
                pkt.time_base = tb
                pkt.is_keyframe = p.keyframe
                pkt.stream = ostream
                out.mux(pkt)
        _fsync_replace(tmp, final)
    except (OSError, av.error.FFmpegError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise _write_failed(camera_id, "clip", final, exc) from exc
    try:
        write_sidecar(final)
    except OSError as exc:  # a clip without its hash is no evidence: neither stays
        final.unlink(missing_ok=True)
        raise _write_failed(camera_id, "clip", final, exc) from exc
    return final


def write_snapshot(
    frame: VideoFrame, folder: Path, camera_id: str, camera_name: str, captured_at: datetime
) -> Path:
    """`frame` at its full size as PNG, camera name and capture time in text chunks."""
    _prepare_folder(folder)
    final = _unique(folder / evidence_name(camera_id, captured_at, ".png"))
    tmp = final.with_name(f".{final.name}.part")
    rgb = frame.to_ndarray(format="rgb24", threads=1)
    info = PngInfo()
    info.add_itxt("Title", camera_name)  # iTXt: UTF-8, Chinese names survive
    info.add_text("CameraId", camera_id)
    info.add_text("CreationTime", captured_at.astimezone().isoformat(timespec="milliseconds"))
    info.add_text("Software", "Command Hall")
    try:
        Image.fromarray(rgb).save(private_file(tmp), format="PNG", pnginfo=info)
        _fsync_replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_failed(camera_id, "snapshot", final, exc) from exc
    return final
