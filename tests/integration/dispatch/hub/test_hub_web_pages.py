"""The WHIP-style SDP helpers of the pages (`dispatch.hub.web_pages.sdp_offer` and
`sdp_answer`) behind a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dispatch.hub import web_pages

pytestmark = pytest.mark.integration

OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


async def echo_offer(request: web.Request) -> web.Response:
    sdp = await web_pages.sdp_offer(request)
    if isinstance(sdp, web.Response):
        return sdp
    where = request.query.get("where")
    return web_pages.sdp_answer(sdp.replace("o=-", "o=hub"), location=where)


async def post(body: str, content_type: str, query: str = "") -> tuple[int, str, str, str | None]:
    app = web.Application()
    app.router.add_post("/offer", echo_offer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                server.make_url(f"/offer{query}"),
                data=body.encode(),
                headers={"Content-Type": content_type},
            ) as resp,
        ):
            return resp.status, resp.content_type, await resp.text(), resp.headers.get("Location")
    finally:
        await server.close()


def test_an_offer_is_answered_with_201_sdp_and_the_location_when_given() -> None:
    status, ctype, text, where = asyncio.run(post(OFFER, "application/sdp", "?where=/v/t/offer"))
    assert (status, ctype, where) == (201, "application/sdp", "/v/t/offer")
    assert text == OFFER.replace("o=-", "o=hub")
    status, ctype, _, where = asyncio.run(post(OFFER, "application/sdp"))
    assert (status, ctype, where) == (201, "application/sdp", None)


def test_offers_of_the_wrong_type_shape_or_size_are_refused_as_json() -> None:
    status, ctype, text, _ = asyncio.run(post(OFFER, "text/plain"))
    assert (status, ctype) == (415, "application/json") and '"invalid"' in text
    status, ctype, _, _ = asyncio.run(post("hello", "application/sdp"))
    assert (status, ctype) == (400, "application/json")
    big = OFFER + "a=x\r\n" * (web_pages.MAX_SDP_CHARS // 5)
    status, _, _, _ = asyncio.run(post(big, "application/sdp"))
    assert status == 400
