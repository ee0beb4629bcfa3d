"""Bad input to the roll call gets a clear, specific error and changes nothing: the
station links (unknown, wrong PIN, locked, no cookie, bad SDP, no call) and the console's
requests (a second run, a bad exemption, a note on no call, stop without a run)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.rollcall.messages import ExemptionInfo
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    console,
    rollcall_hub,
    write_site,
)
from tests.kit.tls import hub_session

pytestmark = [pytest.mark.integration]


def test_station_links_and_requests_refuse_bad_input(tmp_path: Path) -> None:
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 1, 1))
    hub.start()

    async def scenario() -> None:
        async with console(hub) as c, hub_session(hub) as http:
            with pytest.raises(HubError) as err:
                await c.rollcall.stop()
            assert err.value.code is ErrorCode.NOT_FOUND
            with pytest.raises(HubError) as err:
                await c.rollcall.station_link(centre_id="nowhere")
            assert err.value.code is ErrorCode.NOT_FOUND and "unknown centre" in err.value.message
            link = await c.rollcall.station_link(centre_id="t01v01")
            base = hub.http_url + link.path
            async with http.get(hub.http_url + "/s/not-a-token") as r:
                assert r.status == 404 and "链接无效" in await r.text()
            async with http.get(base) as r:
                assert r.status == 200 and 'id="pin"' in await r.text()
            async with http.get(base + "/ws") as r:
                assert r.status == 401
            async with http.post(
                base + "/offer", data="v=0", headers={"Content-Type": "application/sdp"}
            ) as r:
                assert r.status == 401
            wrong = "000000" if link.pin != "000000" else "111111"
            async with http.post(base + "/login", data={"pin": wrong}, allow_redirects=False) as r:
                assert r.status == 401 and "还可尝试 4 次" in await r.text()
            async with http.post(
                base + "/login", data={"pin": link.pin}, allow_redirects=False
            ) as r:
                assert r.status == 303
                cookie = r.cookies["hall_s"].value
            auth = {"Authorization": f"Bearer {cookie}"}
            async with http.post(
                base + "/offer", data="hello", headers={**auth, "Content-Type": "application/sdp"}
            ) as r:
                assert r.status == 400
            async with http.post(
                base + "/offer", data="v=0", headers={**auth, "Content-Type": "text/plain"}
            ) as r:
                assert r.status == 415
            async with http.post(
                base + "/offer?call=nope",
                data="v=0\r\n",
                headers={**auth, "Content-Type": "application/sdp"},
            ) as r:
                assert r.status == 409 and (await r.json())["error"] == "no_call"
            statuses, last = [], ""
            for _ in range(5):  # the good login above reset the count
                async with http.post(
                    base + "/login", data={"pin": wrong}, allow_redirects=False
                ) as r:
                    statuses.append(r.status)
                    last = await r.text()
            assert statuses == [401, 401, 401, 401, 423] and "已锁定" in last
            async with http.get(base, headers=auth) as r:
                assert r.status == 423  # a locked link refuses even a good cookie
            # a re-issued link works again, the old cookie does not
            link2 = await c.rollcall.station_link(centre_id="t01v01")
            async with http.get(hub.http_url + link2.path, headers=auth) as r:
                assert r.status == 200 and 'id="pin"' in await r.text()

            with pytest.raises(HubError) as err:
                await c.rollcall.add_exemption(
                    ExemptionInfo.model_validate(
                        {
                            "id": 0,
                            "centre_id": "t01",
                            "start": "2026-11-20",
                            "end": "2026-11-18",
                            "reason": "repair",
                        }
                    )
                )
            assert (
                err.value.code is ErrorCode.INVALID and "ends before it starts" in err.value.message
            )
            with pytest.raises(HubError) as err:
                await c.rollcall.add_exemption(
                    ExemptionInfo.model_validate(
                        {
                            "id": 0,
                            "centre_id": "zz",
                            "start": "2026-11-18",
                            "end": "2026-11-18",
                            "reason": "repair",
                        }
                    )
                )
            assert "unknown centre" in err.value.message
            assert (await c.rollcall.roster()).exemptions == []
            with pytest.raises(ValidationError, match="ring_s"):  # refused before sending
                await c.rollcall.start(ring_s=0.01)
            rep = await c.rollcall.start(ring_s=0.5, talk_s=0)
            assert rep.run is not None
            with pytest.raises(HubError) as err:
                await c.rollcall.start()
            assert err.value.code is ErrorCode.CONFLICT and "not finished" in err.value.message
            with pytest.raises(HubError) as err:
                await c.rollcall.note(centre_id="t01", attempt=2, note="x")
            assert err.value.code is ErrorCode.NOT_FOUND

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        hub.stop()
