"""How the wall decodes: in this process, or in decode worker processes. Qt-free.

`Decoders(0)` makes `streams.ingest.rtsp.CameraStream`s: a thread per tile in the GUI
process, decoding in its pool (the design before decode processes). `Decoders(n)` makes
`streams.ingest.remote.RemoteStream`s: the same `CameraStream`s run in `n` worker
processes (`streams.ingest.workers`) and hand their pictures over in shared memory, so
decoding and scaling take nothing of the GUI process's GIL. The console
(`--decode-processes`) and the wall bench build their streams here, the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from console.wall.controller import StatusCallback, TileStream
from streams.ingest.pool import DECODE_POOL, DecodePool
from streams.ingest.types import StreamProfile
from streams.ingest.workers import DecodeWorkers


class Decoders:
    def __init__(self, processes: int = 0, *, pool: DecodePool | None = None) -> None:
        if processes < 0:
            raise ValueError(f"decode processes must be 0 or more, got {processes}")
        self.processes = processes
        self._pool = DECODE_POOL if pool is None else pool
        # the pool's places (one per core) are shared out over the processes, at least one
        # each: as many decode at once as in one process (the GUI thread needs a core too)
        places = max(1, self._pool.workers // max(1, processes))
        self.workers = DecodeWorkers(processes, places=places) if processes > 0 else None

    def stream(
        self,
        camera_id: str,
        profiles: Sequence[StreamProfile],
        size: tuple[int, int],
        on_status: StatusCallback,
    ) -> TileStream:
        """A tile's stream, decoded where this wall decodes."""
        if self.workers is None:
            from streams.ingest.rtsp import CameraStream

            return CameraStream(
                camera_id, profiles, target_size=size, on_status=on_status, pool=self._pool
            )
        from streams.ingest.remote import RemoteStream

        return RemoteStream(
            camera_id, profiles, self.workers, target_size=size, on_status=on_status
        )

    def close(self) -> None:
        """Stop the worker processes (their streams stopped first); they start again when a
        stream needs one."""
        if self.workers is not None:
            self.workers.close()


IN_PROCESS = Decoders(0)
"""Decoding in the GUI process (tests and tools that do not choose)."""
