"""When a camera's trouble becomes ONE camera-fault event, and when it has recovered.

Pure logic, no I/O, the time passed in. Per camera a `Tracker` holds since when the
camera has been unhealthy (offline or failing diagnosis). Once that lasts `raise_after`
it says RAISE exactly once; while the fault event is open, further bad samples say
nothing. A healthy sample while an event is open starts the recovery; after
`recover_after` of healthy samples (0: at once) it says RECOVER. A healthy sample
before the raise simply clears the trouble (a blip is not a fault).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Decision(StrEnum):
    NOTHING = "nothing"
    RAISE = "raise"
    RECOVER = "recover"


@dataclass(frozen=True, slots=True)
class FaultPolicy:
    raise_after: timedelta = timedelta(minutes=10)
    recover_after: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.raise_after < timedelta(0) or self.recover_after < timedelta(0):
            raise ValueError("fault policy: durations must not be negative")


@dataclass(slots=True)
class Tracker:
    """The hysteresis state of one camera."""

    bad_since: datetime | None = None
    good_since: datetime | None = None
    open_event: str | None = None  # id of the open camera-fault event, if any
    last_at: datetime | None = None

    def observe(self, healthy: bool, at: datetime, policy: FaultPolicy) -> Decision:
        if self.last_at is not None and at < self.last_at:
            return Decision.NOTHING  # an old sample arriving late changes nothing
        self.last_at = at
        if not healthy:
            self.good_since = None
            if self.bad_since is None:
                self.bad_since = at
            if self.open_event is None and at - self.bad_since >= policy.raise_after:
                return Decision.RAISE
            return Decision.NOTHING
        self.bad_since = None
        if self.open_event is None:
            self.good_since = None
            return Decision.NOTHING
        if self.good_since is None:
            self.good_since = at
        if at - self.good_since >= policy.recover_after:
            return Decision.RECOVER
        return Decision.NOTHING

    def raised(self, event_id: str) -> None:
        self.open_event = event_id

    def recovered(self) -> None:
        self.open_event = None
        self.good_since = None
