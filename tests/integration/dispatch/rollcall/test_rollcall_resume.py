"""A hub killed (SIGKILL) in the middle of a roll call resumes the run where it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dispatch.hub.process import HubProcess
from streams.webrtc.config import restrict_host_addresses
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    LOOPBACK,
    Mode,
    Station,
    console,
    until,
    write_site,
)
from tests.kit.hub import fixed_ports

pytestmark = [pytest.mark.integration]


def test_killed_hub_resumes_the_run(tmp_path: Path) -> None:
    restrict_host_addresses(LOOPBACK)
    site = write_site(tmp_path / "site.toml", 1, 3)  # t01, t01v01..t01v03
    ports = fixed_ports()

    def hub() -> HubProcess:
        return HubProcess(
            f"sqlite:///{tmp_path / 'hall.db'}",
            site=site,
            demo=True,
            extra_args=["--webrtc-host", "127.0.0.1"],
            **ports,
        )

    async def scenario() -> None:
        h = hub()
        h.start()
        stations: list[Station] = []
        try:
            async with console(h) as c:
                for cid in ("t01", "t01v01", "t01v02", "t01v03"):
                    link = await c.rollcall.station_link(centre_id=cid)

                    def decide(i: int, cid: str = cid) -> Mode:
                        return "answer" if cid == "t01" else "ignore"

                    s = Station(
                        h.http_url, link.path, link.pin, decide, ssl_context=h.ssl_context()
                    )
                    await s.start()
                    stations.append(s)
                await until(lambda: all(s.hello.is_set() for s in stations), what="online")
                rep = await c.rollcall.start(ring_s=1.5, talk_s=0.5)
                assert rep.run is not None
                run_id = rep.run.id

                async def calls() -> int:
                    st = await c.rollcall.status()
                    return len(st.run.calls) if st.run else 0

                await until(lambda: calls_at_least(calls, 2), what="two calls logged")
                before = (await c.rollcall.status()).run
                assert before is not None
            h.kill()
            h = hub()
            h.start()
            async with console(h) as c:
                await until(lambda: all(s.hello.is_set() for s in stations), what="reconnected")

                async def done() -> bool:
                    st = await c.rollcall.status()
                    return st.run is not None and st.run.status == "done"

                await until(done, timeout_s=60, what="run done after restart")
                after = (await c.rollcall.status()).run
                assert after is not None and after.id == run_id
                # the calls made before the kill are kept as they were, none repeated
                assert after.calls[: len(before.calls)] == before.calls
                keys = [(x.centre_id, x.attempt) for x in after.calls]
                assert len(keys) == len(set(keys))
                firsts = [k for k in keys if k[1] == 1]
                assert firsts == [(x, 1) for x in ("t01", "t01v01", "t01v02", "t01v03")]
                assert sorted(k for k in keys if k[1] == 2) == [
                    ("t01v01", 2),
                    ("t01v02", 2),
                    ("t01v03", 2),
                ]
                by = {(x.centre_id, x.attempt): x.outcome for x in after.calls}
                assert by[("t01", 1)] == "answered"
                assert by[("t01v03", 2)] == "no_answer"
                week = await c.rollcall.week()
                county = week.coverage[-1]
                assert (county.due, county.reached) == (4, 1)
        finally:
            for s in stations:
                await s.stop()
            h.stop()

    asyncio.run(asyncio.wait_for(scenario(), 180))


async def calls_at_least(calls, n: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(await calls() >= n)
