"""Where the wall's streams come from: the site's cameras through `ingest.rtsp.CameraStream`,
each stream's URL from `dispatch.domain.relay.stream_url` (the relay's when one serves
the camera, else the camera's own)."""

from __future__ import annotations

from console.wall.controller import StatusCallback, StreamFactory, TileStream
from dispatch.domain.relay import stream_url
from dispatch.domain.site import Camera, Site
from streams.ingest.types import StreamProfile


def profiles_for(site: Site, camera: Camera) -> list[StreamProfile]:
    """The camera's streams, sub first, with credentials filled in for the decoder only."""
    return [
        StreamProfile("sub", stream_url(site, camera, "sub"), camera.sub.width, camera.sub.height),
        StreamProfile(
            "main", stream_url(site, camera, "main"), camera.main.width, camera.main.height
        ),
    ]


def rtsp_factory(site: Site) -> StreamFactory:
    """A factory making one `CameraStream` per tile for the site's cameras."""
    from streams.ingest.rtsp import CameraStream

    def make(camera_id: str, size: tuple[int, int], on_status: StatusCallback) -> TileStream:
        camera = site.camera(camera_id)
        return CameraStream(
            camera_id, profiles_for(site, camera), target_size=size, on_status=on_status
        )

    return make


def camera_names(site: Site) -> dict[str, str]:
    return {c.id: c.name for c in site.cameras}
