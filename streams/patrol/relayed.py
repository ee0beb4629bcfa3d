"""The patrol through camera relays: probe URLs, the relay's word on a camera, round length.

A probe through a relay (`hall-relay`) asks the relay's mount with `?patrol=1`: the relay
then holds the camera's upstream only `probe_idle_s` after the probe (not a viewer's
`idle_s`), and a camera the relay already pulls answers at once from the relay's kept
key frame, with no new session at the camera. A probe the relay refuses (its 503 while
the camera is down) says only "error": the relay's own state of that upstream (failed,
and its last error) says why, and `explain` takes the reason from it.

`round_seconds` is the round a site's size implies: probes of one relay run at most
`relay_concurrency` at once, cameras pulled directly at most `concurrency`, every group
at the same time. Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

from streams.patrol.types import CameraCheck, OfflineReason
from streams.relay.states import Upstream, UpstreamState

PATROL_QUERY = "patrol=1"
DIRECT = ""  # a target's `via` when no relay serves the camera
PROBE_SECONDS = 4.0  # a probe's usual length: open plus two key frames 2 s apart
RETRY_SHARE = 0.2  # the retry wave's margin on a round

UpstreamOf = Callable[[str, str], Upstream | None]
"""(relay id, camera id) -> that relay's last reported upstream of the camera's probed
stream, or None when the relay has said nothing of it."""


def probe_url(url: str) -> str:
    """`url` marked as a patrol probe for the relay (`?patrol=1`)."""
    if PATROL_QUERY in url.split("?", 1)[-1].split("&"):
        return url
    return f"{url}{'&' if '?' in url else '?'}{PATROL_QUERY}"


_REASON_WORDS: tuple[tuple[OfflineReason, tuple[str, ...]], ...] = (
    (OfflineReason.AUTH, ("unauthorized", "forbidden", "401", "403")),
    (OfflineReason.NOT_FOUND, ("not found", "404")),
    (
        OfflineReason.TIMEOUT,
        (
            "no picture from the camera within",
            "no data from the camera",
            "could not read from resource",  # rtspsrc: no answer within its TCP timeout
            "timeout",
            "timed out",
        ),
    ),
    (OfflineReason.REFUSED, ("could not open resource", "refused", "failed to connect")),
)


def reason_from_relay(error: str) -> OfflineReason:
    """The offline reason a relay's upstream error text names (else `error`)."""
    text = error.lower()
    for reason, words in _REASON_WORDS:
        if any(w in text for w in words):
            return reason
    return OfflineReason.ERROR


def explain(check: CameraCheck, upstream: Upstream | None) -> CameraCheck:
    """An offline check through a relay, with the reason the relay's failed upstream gives.

    Online checks, and offline ones the relay has no failure for, are returned as they
    are (a probe's own timeout stays a timeout)."""
    if check.online or upstream is None:
        return check
    if check.reason not in (OfflineReason.ERROR, OfflineReason.NO_KEYFRAME):
        return check
    if upstream.state is UpstreamState.CONNECTING:
        # the relay gave up waiting (503) while the camera still gave no picture: its
        # own failure is seconds away; what happened is a timeout
        detail = "relay: no picture from the camera within its open timeout (connecting)"
        return check.model_copy(update={"reason": OfflineReason.TIMEOUT, "detail": detail})
    if upstream.state is not UpstreamState.FAILED:
        return check
    reason = reason_from_relay(upstream.error)
    detail = f"relay: {upstream.error or 'upstream failed'}"[:500]
    return check.model_copy(update={"reason": reason, "detail": detail})


def round_seconds(
    vias: Iterable[str],
    *,
    concurrency: int,
    relay_concurrency: int,
    probe_s: float = PROBE_SECONDS,
    retry_share: float = RETRY_SHARE,
) -> float:
    """How long a round of these targets (each one's `via`) takes at these bounds: the
    slowest group's waves of probes, plus the retry margin."""
    if concurrency < 1 or relay_concurrency < 1:
        raise ValueError("patrol: concurrency must be at least 1")
    counts = Counter(vias)
    if not counts:
        return 0.0
    waves = max(
        math.ceil(n / (concurrency if via == DIRECT else relay_concurrency))
        for via, n in counts.items()
    )
    return waves * probe_s * (1.0 + retry_share)


def implied_interval(
    interval_s: float,
    vias: Iterable[str],
    *,
    concurrency: int,
    relay_concurrency: int,
    probe_s: float = PROBE_SECONDS,
) -> float:
    """The round interval to run: the configured one, or longer when the site's size
    makes a round longer than it (a round never overlaps the next)."""
    need = round_seconds(
        vias, concurrency=concurrency, relay_concurrency=relay_concurrency, probe_s=probe_s
    )
    return max(interval_s, math.ceil(need))
