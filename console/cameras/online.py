"""Which cameras are online now, Qt-free: the patrol's samples, the relays' upstream
states and the wall's own tiles, merged.

The tree's and the status bar's online counts come from here, so a county of 5,000
cameras shows its real state, not just the dozen tiles on the wall. Freshest wins: a
tile on the wall that is live (or settled in a failure) says so for its camera; else a
relay's report of its upstream (current, while the relay pulls it); else the patrol's
newest sample (up to one round old); a camera none of them has seen counts as not
online.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from console.cameras.relays import CameraRelay
from streams.ingest.types import CameraState, CameraStatus
from streams.relay.states import RelayReport, UpstreamState

SETTLED_DOWN = frozenset(
    {
        CameraState.OFFLINE,
        CameraState.STALLED,
        CameraState.RETRYING,
        CameraState.AUTH_FAILED,
        CameraState.NOT_FOUND,
        CameraState.NO_VIDEO,
    }
)
"""Wall states that say the camera is down now (connecting and idle say nothing)."""


class OnlineSources:
    def __init__(self) -> None:
        self._patrol: dict[str, bool] = {}
        self._relay: dict[str, bool] = {}
        self.relay_detail: Mapping[str, CameraRelay] = {}  # camera -> its relay's word

    def set_relay_detail(self, detail: Mapping[str, CameraRelay]) -> None:
        """What the relays say of each camera (`console.cameras.relays.camera_relays`)."""
        self.relay_detail = dict(detail)

    def set_patrol(self, online: Mapping[str, bool]) -> None:
        """The patrol's newest sample per camera: online or not."""
        self._patrol = dict(online)

    def set_relay(self, online: Mapping[str, bool]) -> None:
        """The relays' upstream states: camera -> pulled live now (cameras a relay is not
        pulling are left out)."""
        self._relay = dict(online)

    def online(self, wall: Mapping[str, CameraStatus]) -> set[str]:
        """The cameras online now, given the wall's statuses of the cameras it shows."""
        out = {c for c, ok in self._patrol.items() if ok}
        for cam, ok in self._relay.items():
            if ok:
                out.add(cam)
            else:
                out.discard(cam)
        for cam, status in wall.items():
            if status.state is CameraState.LIVE:
                out.add(cam)
            elif status.state in SETTLED_DOWN:
                out.discard(cam)
        return out


def relay_online(
    view: Mapping[str, RelayReport], stale: Callable[[str], bool] = lambda _r: False
) -> dict[str, bool]:
    """Camera -> pulled live now, from the relays' reports: live on any stream is online,
    failed on every reported stream is not; idle (nobody watches) and connecting say
    nothing, nor does a relay that stopped reporting (`stale`)."""
    out: dict[str, bool] = {}
    for relay, report in view.items():
        if stale(relay):
            continue
        for up in report.upstreams:
            if up.state is UpstreamState.LIVE:
                out[up.camera] = True
            elif up.state is UpstreamState.FAILED:
                out.setdefault(up.camera, False)
    return out
