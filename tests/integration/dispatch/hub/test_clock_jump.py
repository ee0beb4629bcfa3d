"""The hub's wall clock jumping 2 hours forward and back while it runs (issue 16, part 2),
on a real `hall-hub` with a test clock (`HubProcess(clock_offset_file=...)`, the offset
file of `dispatch.hub.clock`; why not libfaketime: see that module).

An event in its routing stage (1 hour of wall time: yellow at 45 min, red at 60) and a
routed event (3 working days): forward 2 h turns the first red with exactly one 催办 at
once and leaves the routed one green; back 2 h brings the first back to green at once
(its colour follows the new time); the timers go on from there (put a few seconds before
the yellow instant, then before the deadline, each change comes when the running clock
gets there) and the 催办 is not written twice; the console stays connected throughout
(heartbeats and timeouts run on the monotonic clock) and sees every change in order."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.client.connection import HubClient
from dispatch.client.state import ConnectionState, ConnectionStatus
from dispatch.domain.model import Action, Colour
from dispatch.events.messages import EventChanged
from dispatch.hub.process import HubProcess
from tests.integration.dispatch.tasks.test_hub_phone import post_event
from tests.kit.hub import StartHub, client_keys

pytestmark = [pytest.mark.integration]

WAIT_S = 20.0
LEAD_S = 4.0  # the hub looks every 0.5 s; generous for a loaded machine


class Watcher:
    def __init__(self, hub: HubProcess) -> None:
        self.changes: list[EventChanged] = []
        self.states: list[ConnectionState] = []
        self.client = HubClient(
            hub.req_endpoint,
            hub.pub_endpoint,
            keys=client_keys(hub),
            workstation="test-console",
            on_change=self.changes.append,
            on_connection=self.states.append,
        )

    def colour(self, eid: str) -> Colour | None:
        mine = [c.colour for c in self.changes if c.event.id == eid]
        return mine[-1] if mine else None

    def reminders(self, eid: str) -> int:
        return sum(
            1
            for c in self.changes
            if c.event.id == eid
            for a in c.audit
            if a.action == Action.REMIND
        )

    async def until_colour(self, eid: str, colour: Colour) -> float:
        t0 = time.monotonic()
        while self.colour(eid) is not colour:
            if time.monotonic() - t0 > WAIT_S:
                raise AssertionError(f"{eid} not {colour} within {WAIT_S} s: {self.colour(eid)}")
            await asyncio.sleep(0.05)
        return time.monotonic() - t0


def test_two_hours_forward_and_back(start_hub: StartHub, tmp_path: Path) -> None:
    offset = tmp_path / "clock-offset"
    hub = start_hub(demo=True, clock_offset_file=offset)
    hub.set_clock_offset(0)
    routing = post_event(hub, "占道经营", "clock-1")
    routed = post_event(hub, "邻里纠纷", "clock-2")

    async def body() -> None:
        w = Watcher(hub)
        await w.client.start()
        try:
            await w.client.login("duty", "duty123")
            await w.client.events.act(routed, Action.REGISTER)
            await w.client.events.act(routed, Action.ROUTE, assignee="城关镇司法所")
            await w.until_colour(routed, Colour.GREEN)
            seen_before = len(w.changes)

            hub.set_clock_offset(2 * 3600)  # forward: the routing hour is long over
            took = await w.until_colour(routing, Colour.RED)
            assert took < 10, took
            await asyncio.sleep(1.5)  # several timer ticks: nothing more comes
            assert w.reminders(routing) == 1
            assert w.colour(routed) is Colour.GREEN  # 2 h are far from 3 working days

            hub.set_clock_offset(0)  # back: the event is minutes old again
            await w.until_colour(routing, Colour.GREEN)
            await asyncio.sleep(1.5)
            assert w.reminders(routing) == 1  # not written again, nothing else moved
            assert w.colour(routed) is Colour.GREEN

            # the timers go on from the corrected time: put the clock LEAD_S before the
            # yellow instant, then before the deadline; each change comes when the
            # clock, running on, gets there (not early, not 2 h late)
            accepted = next(c.event.accepted_at for c in w.changes if c.event.id == routing)
            for at, colour in (
                (timedelta(minutes=45), Colour.YELLOW),
                (timedelta(hours=1), Colour.RED),
            ):
                hub.set_clock_offset((accepted + at - datetime.now(UTC)).total_seconds() - LEAD_S)
                took = await w.until_colour(routing, colour)
                assert LEAD_S - 1.5 < took < LEAD_S + 8, (colour, took)
            await asyncio.sleep(1.5)
            assert w.reminders(routing) == 1  # the deadline's 催办 was written once

            mine = [c for c in w.changes[seen_before:] if c.event.id == routing]
            assert [c.colour for c in mine] == [
                Colour.RED,
                Colour.GREEN,
                Colour.YELLOW,
                Colour.RED,
            ]
            seqs = [c.seq for c in w.changes[seen_before:]]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            assert [s.status for s in w.states if s.status is not ConnectionStatus.CONNECTED] in (
                [],
                [ConnectionStatus.CONNECTING],
            ), w.states
        finally:
            await w.client.stop()

    asyncio.run(asyncio.wait_for(body(), 120))
    assert "wall clock jumped +7200 s" in hub.stderr_text()
    assert "wall clock jumped -7200 s" in hub.stderr_text()
