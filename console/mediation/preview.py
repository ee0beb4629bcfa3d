"""The hall's self-preview (本端 / Me): a pass-through of the video the console sends.

`PreviewTrack(source, sink)` is given to the peer connection instead of `source`: each
frame it hands on to the encoder, every `every`-th also to `sink` (the frame converter,
which keeps only the newest), so the window shows exactly what the hall sends without a
second capture of the camera.
"""

from __future__ import annotations

from collections.abc import Callable

import av
from aiortc.mediastreams import MediaStreamTrack

SELF_KEY = "self"  # the converter's key and the tile's id of the preview


class PreviewTrack(MediaStreamTrack):
    kind = "video"

    def __init__(
        self, source: MediaStreamTrack, sink: Callable[[av.VideoFrame], None], every: int = 2
    ) -> None:
        super().__init__()
        self._source = source
        self._sink = sink
        self._every = max(1, every)
        self._n = 0

    async def recv(self) -> av.VideoFrame:
        frame = await self._source.recv()
        assert isinstance(frame, av.VideoFrame)
        self._n += 1
        if self._n % self._every == 0:
            self._sink(frame)
        return frame

    def stop(self) -> None:
        super().stop()
        self._source.stop()
