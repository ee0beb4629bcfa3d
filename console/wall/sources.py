"""Where the wall's streams come from: the site's cameras through `ingest.rtsp.CameraStream`
(in this process or in decode processes: `console.wall.decoders`),
each stream's URL from `dispatch.domain.relay.stream_url` (the relay's when one serves
the camera, else the camera's own)."""

from __future__ import annotations

from console.wall.controller import StatusCallback, StreamFactory, TileStream
from console.wall.decoders import IN_PROCESS, Decoders
from dispatch.domain.relay import StreamKind, camera_stream, stream_url
from dispatch.domain.site import Camera, Site
from streams.ingest.types import StreamProfile


def profiles_for(site: Site, camera: Camera) -> list[StreamProfile]:
    """The camera's streams, smallest first (third if it has one, sub, main), with
    credentials filled in for the decoder only.

    The ingest decodes the smallest of them that covers the tile
    (`streams.ingest.profiles.choose_profile`); a camera without a third stream shows
    its sub-stream on small tiles, and the wall may shed it to key frames.
    """
    kinds: list[StreamKind] = ["third"] if camera.third is not None else []
    kinds += ["sub", "main"]
    out = []
    for kind in kinds:
        cfg = camera_stream(camera, kind)
        assert cfg is not None  # third only when the camera has one
        out.append(StreamProfile(kind, stream_url(site, camera, kind), cfg.width, cfg.height))
    return out


def rtsp_factory(site: Site, decoders: Decoders = IN_PROCESS) -> StreamFactory:
    """A factory making one stream per tile for the site's cameras, decoded by `decoders`
    (in this process by default, or in decode worker processes)."""

    def make(camera_id: str, size: tuple[int, int], on_status: StatusCallback) -> TileStream:
        camera = site.camera(camera_id)
        return decoders.stream(camera_id, profiles_for(site, camera), size, on_status)

    return make


def camera_names(site: Site) -> dict[str, str]:
    return {c.id: c.name for c in site.cameras}
