"""The shared test kit, a pytest plugin (`tests.kit.plugin`, registered by tests/conftest.py).

One of each: `qapp` (the offscreen QApplication), `wait_until` / `pump_until` /
`async_wait_until` (poll a predicate with a deadline), `FakeClock` (passed in, moved by
`advance()`), the hub fixtures (`hub`, `start_hub`, `pg_url`, `migrated_store`), the camera
simulator fixtures (`camsim`, `camsim_auth`, `camsim_faulty`), the county's networks in
namespaces (`netns`, `tests/kit/netns.py`, with `netns_hub.py` and `netns_turn.py`) and
the guard that fails a test without the `integration` marker when it opens a socket or
starts a process.
"""

from tests.kit.clock import FakeClock
from tests.kit.wait import WaitTimeout, async_wait_until, pump_for, pump_until, wait_until

__all__ = [
    "FakeClock",
    "WaitTimeout",
    "async_wait_until",
    "pump_for",
    "pump_until",
    "wait_until",
]
