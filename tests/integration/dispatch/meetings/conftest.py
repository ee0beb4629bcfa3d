"""Janus offers no loopback candidates and the namespaces' peers need their veth addresses:
tests that ran earlier in the same process (mediation, roll call) restricted aioice's host
candidates to 127.0.0.1 process-wide, which made every ICE check with Janus fail in a whole
run while each file passed alone. Each test here starts with aioice's own addresses and
leaves the previous restriction as it found it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.webrtc.config import restrict_host_addresses, restricted_hosts


@pytest.fixture(autouse=True)
def aioice_default_hosts() -> Iterator[None]:
    before = restricted_hosts()
    restrict_host_addresses(None)
    try:
        yield
    finally:
        restrict_host_addresses(before)
