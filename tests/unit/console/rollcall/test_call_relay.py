"""The roll-call video area says when the call's media goes through the TURN relay
(`via_relay` over `StarClient.selected_pairs()`, `CallModel.set_relayed`), in Chinese
and in English."""

from __future__ import annotations

from console.kit import i18n
from console.rollcall.call_model import CallModel
from streams.webrtc.stats import via_relay


def test_via_relay_reads_the_selected_pairs() -> None:
    assert not via_relay([])  # not connected yet
    assert not via_relay([("host", "host"), ("srflx", "host")])
    assert via_relay([("relay", "host")])
    assert via_relay([("host", "relay")])  # the far end's relay carries it too
    assert via_relay([("host", "host"), ("relay", "relay")])


def test_status_line_says_relayed_once_joined() -> None:
    model = CallModel()
    seen: list[str] = []
    model.status_changed.connect(seen.append)
    model.joining("第1镇")
    model.set_relayed(True)  # connected before the join was confirmed
    assert model.status == "正在接入 第1镇 的画面…"  # not yet in the call
    model.joined_call("第1镇", None)
    assert model.relayed
    assert model.status == "已接入：第1镇（经中继服务器 TURN 转发）"
    model.set_relayed(False)  # reconnected on a direct pair
    assert model.status == "已接入：第1镇" and seen[-1] == model.status
    model.joining("第2镇")  # a new call starts unknown
    assert not model.relayed


def test_relayed_in_english() -> None:
    i18n.set_language("en")
    try:
        model = CallModel()
        model.joining("Town 1")
        model.joined_call("Town 1", None)
        model.set_relayed(True)
        assert model.status == "In the call: Town 1 (relayed through the TURN server)"
    finally:
        i18n.set_language("zh_CN")
