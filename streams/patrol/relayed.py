"""The patrol through camera relays: probe URLs, the relay's word on a camera, round length.

A probe through a relay (`hall-relay`) asks the relay's mount with `?patrol=1`: the relay
then holds the camera's upstream only `probe_idle_s` after the probe (not a viewer's
`idle_s`), and a camera the relay already pulls answers at once from the relay's kept
key frame, with no new session at the camera. A probe the relay refuses (its 503 while
the camera is down) says only "error": the relay's own state of that upstream (failed,
and its last error) says why, and `explain` takes the reason from it. Through a relay a
camera is offline only on the relay's word: a probe that got no picture while the relay
had it, was still connecting, was starved ("relay busy"), saw the camera's data begin
("it answered") or said nothing of the camera is 未巡检 (`not_checked`), no verdict.

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


EXPLAINED = frozenset(
    {OfflineReason.TIMEOUT, OfflineReason.ERROR, OfflineReason.NO_KEYFRAME, OfflineReason.REFUSED}
)
"""A probe's own reasons that, through a relay, say nothing of the camera by themselves."""
NOT_THE_CAMERA = ("(relay busy", "(it answered")
"""Marks in a relay's failure that the camera is not at fault (`_server.py`): the relay's
loop ran late while it connected, or the camera's data had begun (only its key frame
was late)."""


def not_checked(check: CameraCheck, why: str) -> CameraCheck:
    """The check as 未巡检: no verdict on the camera, `why` in the detail."""
    return check.model_copy(
        update={"online": False, "reason": OfflineReason.NOT_CHECKED, "detail": why[:500]}
    )


def explain(check: CameraCheck, upstream: Upstream | None) -> CameraCheck:
    """An offline check through a relay: the reason the relay's failed upstream gives
    (refused, timeout, auth, ...), or 未巡检 when nothing says the camera failed.

    Online checks and the camera's own answers (auth, not found, no video) are returned
    as they are. `upstream` is the relay's last word on the camera's stream (None: it
    said nothing)."""
    if check.online or check.reason not in EXPLAINED:
        return check
    if check.reason is OfflineReason.REFUSED:  # the relay's own port: the relay is down
        return not_checked(check, f"relay unreachable ({check.detail})")
    if upstream is None:
        return not_checked(check, f"relay: nothing reported of this camera ({check.detail})")
    if upstream.state is UpstreamState.FAILED:
        error = upstream.error or "upstream failed"
        if any(mark in error for mark in NOT_THE_CAMERA):
            return not_checked(check, f"relay: {error}")
        detail = f"relay: {error}"[:500]
        return check.model_copy(update={"reason": reason_from_relay(error), "detail": detail})
    if upstream.state is UpstreamState.CONNECTING:
        # the probe gave up (it waits longer than the relay's own open timeout) and the
        # relay has still not given up on the camera: the relay is running late
        return not_checked(check, "relay: still connecting to the camera after the probe")
    # live, or dropped without a failure: the relay had (or would have had) the picture
    return not_checked(
        check,
        f"relay: upstream {upstream.state.value}, not failed; the probe got no picture"
        f" in time ({check.detail})",
    )


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
