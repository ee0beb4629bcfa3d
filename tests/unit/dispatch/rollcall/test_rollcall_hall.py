"""The hall's way into a roll call (pure parts): grants and their refusals, the ended
push, and the console's video-area helpers (duration, which call, error sentences)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from console.kit import i18n
from console.rollcall.call_model import call_to_join, duration_text, error_text, t
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.rollcall.hall import ENDED_KEPT, MIN_TTL, HallDesk, HallError
from dispatch.rollcall.messages import HallEnded, HallOut, RunInfo
from streams.webrtc.client import SignallingError
from tests.kit import FakeClock

T0 = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def refused(desk: HallDesk, call_id: str, token: str | None, *, live: bool) -> HallError:
    with pytest.raises(HallError) as exc:
        desk.check(call_id, token, live=live)
    return exc.value


def test_grant_opens_only_its_live_call() -> None:
    clock = FakeClock(T0)
    desk = HallDesk(clock)
    token = desk.grant("c1", timedelta(seconds=10))
    desk.check("c1", token, live=True)  # no exception
    assert (refused(desk, "c1", None, live=True).status, "auth") == (401, "auth")
    e = refused(desk, "c1", "x" + token, live=True)
    assert (e.status, e.code) == (403, "forbidden")
    e = refused(desk, "c2", token, live=True)  # another call's grant
    assert (e.status, e.code) == (403, "forbidden")
    e = refused(desk, "c9", token, live=False)  # never a call
    assert (e.status, e.code) == (404, "no_call")


def test_new_grant_replaces_the_old_and_expires() -> None:
    clock = FakeClock(T0)
    desk = HallDesk(clock)
    old = desk.grant("c1", timedelta(seconds=10))
    new = desk.grant("c1", timedelta(seconds=10))
    assert refused(desk, "c1", old, live=True).status == 403
    desk.check("c1", new, live=True)
    clock.set(T0 + MIN_TTL - timedelta(seconds=1))  # short calls still get MIN_TTL
    desk.check("c1", new, live=True)
    clock.set(T0 + MIN_TTL)
    e = refused(desk, "c1", new, live=True)
    assert (e.status, e.code) == (403, "expired") and "过期" in e.message


def test_ended_call_tells_the_sockets_and_refuses_with_409() -> None:
    desk = HallDesk(FakeClock(T0))
    token = desk.grant("c1", timedelta(minutes=1))
    got: list[HallOut] = []
    desk.connected("c1", got.append)
    desk.connected("c1", got.append)
    desk.disconnected("c1", got.append)
    assert desk.sockets("c1") == 1
    desk.ended("c1", "officer")
    assert got == [HallEnded(call_id="c1", reason="officer", text="值班员已结束通话")]
    assert got[0].model_dump_json() == (  # what the console's socket reads
        '{"type":"ended","call_id":"c1","reason":"officer","text":"值班员已结束通话"}'
    )
    e = refused(desk, "c1", token, live=False)
    assert (e.status, e.code) == (409, "call_ended") and "值班员已结束通话" in e.message


def test_ended_calls_are_remembered_within_a_bound() -> None:
    desk = HallDesk(FakeClock(T0))
    for i in range(ENDED_KEPT + 1):
        desk.ended(f"c{i}", "done")
    assert refused(desk, "c0", "t", live=False).status == 404  # forgotten: the oldest
    assert refused(desk, "c1", "t", live=False).status == 409


def test_duration_text() -> None:
    assert duration_text(None, T0) == ""
    assert duration_text(T0, T0 - timedelta(seconds=5)) == "0:00"  # clock skew: never negative
    assert duration_text(T0, T0 + timedelta(seconds=65)) == "1:05"
    assert duration_text(T0, T0 + timedelta(hours=1, seconds=7)) == "1:00:07"


def run_with(in_call: list[str]) -> RunInfo:
    return RunInfo(
        id="r",
        week=T0.date(),
        status="running",
        started_at=T0,
        ended_at=None,
        started_by="duty",
        batch=2,
        ring_s=60,
        talk_s=10,
        due=["a", "b"],
        exempt=[],
        calls=[],
        in_call=in_call,
    )


def test_call_to_join() -> None:
    assert call_to_join(None, None) is None
    assert call_to_join(run_with([]), "a") is None
    assert call_to_join(run_with(["b", "a"]), None) == "b"
    assert call_to_join(run_with(["b", "a"]), "a") == "a"  # keep the one shown
    assert call_to_join(run_with(["b"]), "a") == "b"


def test_error_sentences_in_both_languages() -> None:
    hub = HubError(ErrorCode.NOT_FOUND, "该中心没有进行中的通话 / no call in progress with it")
    assert error_text(hub).startswith("中枢拒绝接入：该中心没有进行中的通话")
    sig = SignallingError(409, '{"error": "call_ended", "message": "通话已结束（技术故障）"}')
    assert error_text(sig) == "中枢拒绝接入（HTTP 409）：通话已结束（技术故障）"
    assert error_text(SignallingError(500, "plain text")).endswith("plain text")
    net = aiohttp.ClientConnectionError("Cannot connect to host 127.0.0.1:9")
    assert error_text(net) == "连接中枢失败：Cannot connect to host 127.0.0.1:9"
    assert error_text(RuntimeError()) == "媒体连接失败：RuntimeError"
    i18n.set_language("en")
    try:
        assert error_text(hub).startswith("The hub refused: ")
        assert t("auto") == "Join answered calls automatically"
    finally:
        i18n.set_language("zh_CN")
    assert t("auto") == "自动接入画面"
