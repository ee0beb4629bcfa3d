"""The guard's pure parts: who the client is (a header believed only from a trusted
proxy), and what the default limits leave an attacker who retries as soon as allowed
(fake clock): PINs per client, passwords per account and per client."""

from __future__ import annotations

import ipaddress

from dispatch.hub.config import GuardConfig
from dispatch.hub.guard import Guard, client_address

PROXY = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("fd00::/64")]


def test_the_client_is_the_peer_unless_a_trusted_proxy_says_otherwise() -> None:
    assert client_address("198.51.100.7", None, []) == "198.51.100.7"
    # no trusted proxy configured: the header is the client's own word, ignored
    assert client_address("198.51.100.7", "203.0.113.1", []) == "198.51.100.7"
    assert client_address("198.51.100.7", "203.0.113.1", PROXY) == "198.51.100.7"
    # from a trusted proxy: the last hop that is not one of ours
    assert client_address("10.0.0.5", "203.0.113.1", PROXY) == "203.0.113.1"
    assert client_address("10.0.0.5", "1.2.3.4, 203.0.113.1, 10.0.0.9", PROXY) == "203.0.113.1"
    assert client_address("fd00::2", "2001:db8::1", PROXY) == "2001:db8::1"
    # a garbled chain or only proxies: the proxy itself
    assert client_address("10.0.0.5", "203.0.113.1, junk", PROXY) == "10.0.0.5"
    assert client_address("10.0.0.5", "10.0.0.6", PROXY) == "10.0.0.5"
    assert client_address(None, "203.0.113.1", PROXY) == "?"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _pins_in(guard: Guard, clock: Clock, seconds: float) -> int:
    """Wrong PINs one client gets checked in `seconds`, trying as soon as allowed."""
    end, n = clock.t + seconds, 0
    while clock.t < end:
        wait = guard.pin_wait("c")
        if wait > 0:
            clock.t += wait
            continue
        guard.pin_done("c", False, guard.pin_counted("c"))
        n += 1
    return n


def test_the_default_limits_leave_a_guesser_a_few_tries_an_hour() -> None:
    clock = Clock()
    blocks: list[tuple[str, str, str]] = []

    class Log:
        def __call__(self, kind: str, who: str, client: str) -> None:
            blocks.append((kind, who, client))

    guard = Guard(GuardConfig(), clock=clock, log=Log())  # type: ignore[arg-type]
    assert _pins_in(guard, clock, 60) == 16  # 10 free, then 1, 2, 4, 8, 16 s (was ~9,400)
    assert _pins_in(guard, clock, 3540) <= 20  # the rest of the hour: blocked mostly
    assert blocks and blocks[0] == ("pin", "-", "c")
    # operator passwords: one account from many clients, and one client on many accounts
    n = 0
    for i in range(1000):
        if guard.login_wait("duty", f"ip{i}") > 0:
            break
        guard.login_failed("duty", f"ip{i}", guard.login_counted("duty", f"ip{i}"))
        n += 1
    assert n == 6  # 5 free, the 6th sets a wait: the account waits whatever the client
    guard.login_ok("duty", "ip0")
    assert guard.login_wait("duty", "ip0") == 0  # a right password resets the account
