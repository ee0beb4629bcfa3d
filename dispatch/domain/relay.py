"""Which URL a camera's stream is pulled from: the one resolver every user of camera URLs
calls (the wall and its evidence ring, the console's tree, the patrol on the hub).

A camera a relay serves (`Site.relays`, `hall-relay`) is pulled from that relay at
`<relay url>/<camera id>/<stream>`, so the camera itself sees one session however many
consoles, tiles and patrol probes watch it; any other camera is pulled from its own URL.

Credentials: the relay holds the cameras' credentials (it reads them from the site on its
own machine); a console or the patrol gives the relay only the relay's own credentials,
if the relay names a `[credentials]` entry (digest), else none. `stream_url` returns the
URL to open, with those credentials filled in, for the decoder only: what is shown or
logged is `display_url` (no user info), never `stream_url`.
"""

from __future__ import annotations

from typing import Literal

from dispatch.domain.site import Camera, CameraStreamConfig, Relay, Site, redact_url
from streams.ingest.sources import with_credentials

StreamKind = Literal["main", "sub", "third"]
STREAMS: tuple[StreamKind, ...] = ("main", "sub", "third")


def camera_stream(camera: Camera, stream: StreamKind) -> CameraStreamConfig | None:
    """The camera's own stream of that kind (None: the camera has no third stream)."""
    if stream == "main":
        return camera.main
    if stream == "sub":
        return camera.sub
    return camera.third


def relay_for(site: Site, camera: Camera) -> Relay | None:
    """The relay serving `camera`: one naming it, else one serving its township, else None."""
    for r in site.relays:
        if camera.id in r.cameras:
            return r
    for r in site.relays:
        if camera.township in r.townships:
            return r
    return None


def relay_path(camera_id: str, stream: StreamKind) -> str:
    """The mount path a relay serves a camera's stream at."""
    return f"/{camera_id}/{stream}"


def stream_url(site: Site, camera: Camera, stream: StreamKind) -> str:
    """The URL to pull `camera`'s `stream` from, with the credentials it needs filled in.

    For the decoder only (never shown or logged: use `display_url`). Raises `ValueError`
    for a third stream the camera does not have.
    """
    own = camera_stream(camera, stream)
    if own is None:
        raise ValueError(f"camera {camera.id!r} has no {stream} stream")
    relay = relay_for(site, camera)
    if relay is None:
        return camera_url(site, camera, stream)
    url = relay.url.rstrip("/") + relay_path(camera.id, stream)
    if relay.credentials is None:
        return url
    cred = site.credentials[relay.credentials]
    return with_credentials(url, cred.username, cred.secret())


def display_url(site: Site, camera: Camera, stream: StreamKind) -> str:
    """`stream_url` without user info: what a tooltip, a log line or a report may show."""
    return redact_url(stream_url(site, camera, stream))


def relay_cameras(site: Site, relay_id: str) -> list[Camera]:
    """The site's cameras that go through relay `relay_id`, in site order."""
    relay = site.relay(relay_id)
    return [c for c in site.cameras if relay_for(site, c) is relay]


def camera_url(site: Site, camera: Camera, stream: StreamKind) -> str:
    """The camera's own URL of that stream with the camera's credentials: what the relay
    pulls (and what `stream_url` gives when no relay serves the camera). Decoder only."""
    cfg = camera_stream(camera, stream)
    if cfg is None:
        raise ValueError(f"camera {camera.id!r} has no {stream} stream")
    if camera.credentials is None:
        return cfg.url
    cred = site.credentials[camera.credentials]
    return with_credentials(cfg.url, cred.username, cred.secret())
