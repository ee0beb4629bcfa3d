"""Mediation links refuse what they must: a bad token, a wrong PIN, an expired link, an
offer or a socket without a valid session, and a participant still in the lobby."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from dispatch.hub.process import HubProcess
from tests.integration.dispatch.mediation.test_mediation_support import (
    INVITES,
    console_client,
    mediation_args,
    post_event,
)
from tests.kit.hub import StartHub
from tests.kit.tls import hub_session

pytestmark = [pytest.mark.integration]


@pytest.fixture
def hub(start_hub: StartHub, tmp_path: Path) -> HubProcess:
    return start_hub(**mediation_args(tmp_path))


def test_bad_token_wrong_pin_expired_link_and_lobby_are_refused(hub: HubProcess) -> None:
    async def body() -> None:
        eid = post_event(hub, "相邻权纠纷", "auth-1")
        async with (
            console_client(hub) as con,
            hub_session(hub, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
        ):
            rep = await con.mediation.open_mediation(eid, INVITES[:1], ttl_hours=1)
            link = rep.links[0]
            base = hub.http_url + link.path
            # an unknown token: a clear Chinese page with 404
            async with http.get(hub.http_url + "/v/not-a-real-token") as r:
                assert r.status == 404
                assert "链接无效" in await r.text()
            # the PIN form, then a wrong PIN: 401 with the attempts left
            async with http.get(base) as r:
                assert r.status == 200 and "PIN" in await r.text()
            wrong = "000000" if link.pin != "000000" else "111111"
            async with http.post(base + "/login", data={"pin": wrong}) as r:
                assert r.status == 401
                assert "PIN 码错误，还可尝试 4 次" in await r.text()
            # no session: offer and socket refused
            async with http.post(
                base + "/offer", data="v=0\r\n", headers={"Content-Type": "application/sdp"}
            ) as r:
                assert r.status == 401
            async with http.get(base + "/ws") as r:
                assert r.status == 401
            # the right PIN: a session cookie; still in the lobby → 403 on an offer
            async with http.post(
                base + "/login", data={"pin": link.pin}, allow_redirects=False
            ) as r:
                assert r.status == 303
            async with http.post(
                base + "/offer", data="v=0\r\n", headers={"Content-Type": "application/sdp"}
            ) as r:
                assert r.status == 403
                assert "等候室" in (await r.json())["message"]
            # a session token of another link does not open this one
            async with http.post(
                hub.http_url + rep.host_path + "/offer",
                data="v=0\r\n",
                headers={"Content-Type": "application/sdp"},
            ) as r:
                assert r.status == 401
            # five wrong PINs lock a link (423)
            rep2 = await con.mediation.open_mediation(eid, INVITES[1:2], ttl_hours=1)
            base2 = hub.http_url + rep2.links[0].path
            bad = "000000" if rep2.links[0].pin != "000000" else "111111"
            codes = []
            for _ in range(5):
                async with http.post(base2 + "/login", data={"pin": bad}) as r:
                    codes.append(r.status)
            assert codes == [401, 401, 401, 401, 423]
            async with http.get(base2) as r:
                assert r.status == 423 and "已锁定" in await r.text()
            # an expired link (a real hub process keeps real time: a 1.8 s link)
            rep3 = await con.mediation.open_mediation(eid, INVITES[2:3], ttl_hours=0.0005)
            base3 = hub.http_url + rep3.links[0].path
            await asyncio.sleep(2.5)
            async with http.get(base3) as r:
                assert r.status == 410 and "链接已过期" in await r.text()
            async with http.post(base3 + "/login", data={"pin": rep3.links[0].pin}) as r:
                assert r.status == 410
            # a closed session's links: 410 with a clear page
            await con.mediation.close_mediation(rep.session_id, "no_agreement")
            async with http.get(base) as r:
                assert r.status == 410 and "调解已结束" in await r.text()

    asyncio.run(asyncio.wait_for(body(), 120))
