"""A steady receive-bitrate announcement (RTCP REMB) for the hub's receivers.

aiortc's receiver estimates the bandwidth from the arrival times of RTP packets as its
event loop sees them. In the hub, which carries every participant's media on one loop,
that measures the loop's own load, not the network: under load it announced a falling
bitrate and the browsers cut their video to 320x240. The hub forwards video and is not
itself the bottleneck, so it announces a fixed ceiling instead (`SteadyRemb`), once per
`interval_ms`. A sender still lowers its rate on its own for loss (Chromium sends at the
smaller of REMB and its loss-based estimate), so a participant on a weak uplink still
backs off.
"""

from __future__ import annotations

from typing import Any

DEFAULT_BITRATE = 1_500_000  # enough for 640x480 at 25 fps in VP8
_ESTIMATOR = "_RTCRtpReceiver__remote_bitrate_estimator"


class SteadyRemb:
    """Stands in for aiortc's `RemoteBitrateEstimator`: same `add`, a fixed answer."""

    def __init__(self, bitrate: int = DEFAULT_BITRATE, interval_ms: int = 500) -> None:
        if bitrate <= 0 or interval_ms <= 0:
            raise ValueError("bitrate and interval must be positive")
        self.bitrate = bitrate
        self.interval_ms = interval_ms
        self.ssrcs: dict[int, int] = {}
        self._last_ms: int | None = None
        self.sent = 0

    def add(
        self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
    ) -> tuple[int, list[int]] | None:
        self.ssrcs[ssrc] = arrival_time_ms
        if self._last_ms is not None and arrival_time_ms - self._last_ms < self.interval_ms:
            return None
        self._last_ms = arrival_time_ms
        self.sent += 1
        return self.bitrate, list(self.ssrcs)


def use_steady_remb(receiver: Any, bitrate: int = DEFAULT_BITRATE) -> SteadyRemb | None:
    """Put a `SteadyRemb` in an aiortc video receiver (None: an audio receiver, which
    has no estimator)."""
    if getattr(receiver, _ESTIMATOR, None) is None:
        return None
    remb = SteadyRemb(bitrate)
    setattr(receiver, _ESTIMATOR, remb)
    return remb
