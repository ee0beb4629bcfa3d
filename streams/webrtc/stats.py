"""Which candidate pair an aiortc peer connection really uses (relay, host, srflx …).

aiortc's `getStats()` has no candidate-pair entries, so this reads the nominated pair of
each ICE transport from aioice (`Connection._nominated`, a private field checked by
tests/unit/streams/webrtc/test_aiortc_internals.py). Tests, benchmarks and the console
use it to say whether media goes through the TURN relay.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiortc import RTCIceTransport, RTCPeerConnection


def selected_pairs(pc: RTCPeerConnection) -> list[tuple[str, str]]:
    """(local type, remote type) of each transport's nominated pair ([] before that)."""
    out: list[tuple[str, str]] = []
    transports: set[RTCIceTransport] = getattr(pc, "_RTCPeerConnection__iceTransports", set())
    for transport in transports:
        conn = getattr(transport.iceGatherer, "_connection", None)
        nominated = getattr(conn, "_nominated", {}) if conn is not None else {}
        for pair in nominated.values():
            out.append((pair.local_candidate.type, pair.remote_candidate.type))
    return out


def via_relay(pairs: Sequence[tuple[str, str]]) -> bool:
    """Media goes through a TURN relay: a selected pair (`selected_pairs`) has a relay
    candidate on either side (the console says so in its call areas)."""
    return any("relay" in pair for pair in pairs)


def relayed(pc: RTCPeerConnection) -> bool:
    """True when every nominated pair has a relay candidate on both sides."""
    pairs = selected_pairs(pc)
    return bool(pairs) and all(p == ("relay", "relay") for p in pairs)
