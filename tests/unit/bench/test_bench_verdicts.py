"""The benchmarks' checks fail on what they must catch (pure: figures made by hand)."""

from __future__ import annotations

from typing import Any

from tests.bench import dispatch, hub
from tests.bench.verdict import Verdict


def test_verdict_collects_failures() -> None:
    v = Verdict()
    assert v.check("a", True) and not v.check("b", False, "why")
    assert v.failed == ["b"] and v.exit_code == 1
    assert any("FAIL b: why" in line for line in v.lines())
    assert Verdict().exit_code == 0


def _hub_figures(**over: Any) -> dict[str, Any]:
    intake = hub.IntakeResult(100.0, 100, 0, "", 1.0, 0.5, 0.2, frozenset({"r-1"}))
    runs = [hub.Publish([1.0, 2.0], [1.0, 1.0], 2, {"lat0-0", "lat0-1"}, 0)]
    m = {"intake": intake, "intake_lost": 0, "runs": runs, "filled": 10, "n_snap": 10}
    return {**m, **over}


def test_hub_verdict_passes_when_nothing_is_lost() -> None:
    assert hub.verdict(_hub_figures(), 10).failed == []


def test_hub_verdict_fails_on_a_lost_publish() -> None:
    runs = [hub.Publish([1.0], [1.0], 2, {"lat0-0"}, 0)]
    assert hub.verdict(_hub_figures(runs=runs), 10).failed == [
        "publish: every event published to the subscriber"
    ]


def test_hub_verdict_fails_on_a_short_resync_and_a_lost_intake() -> None:
    failed = hub.verdict(_hub_figures(n_snap=9, intake_lost=1), 10).failed
    assert failed == [
        "intake: every acknowledged event stored",
        "resync: the snapshot holds every event",
    ]


def _dispatch_run(**over: Any) -> dict[str, Any]:
    return {"asked": 5, "dispatches": 5, "lost": [], "failed": [], "acks": 5, **over}


def test_dispatch_verdict() -> None:
    ok = {"baseline": _dispatch_run(), "loaded": _dispatch_run()}
    assert dispatch.verdict(ok, 5).failed == []
    lost = {"baseline": _dispatch_run(), "loaded": _dispatch_run(lost=["t1"], dispatches=4, acks=4)}
    assert dispatch.verdict(lost, 5).failed == [
        "loaded: every dispatch delivered",
        "loaded: the phones acked each task once",
        "loaded: samples",
    ]


def _rollcall_run(**over: Any) -> dict[str, Any]:
    r = {"stations": 3, "answered_with_snapshot": 3, "media_timed": 3, "outcomes": {},
         "dropped_out": 0, "rung_not_once": 0, "covered": True, "coverage": "3/3"}  # fmt: skip
    return {**r, **over}


def test_rollcall_check_fails_when_a_station_drops_out() -> None:
    from tests.bench import rollcall

    v = Verdict()
    rollcall.check(v, _rollcall_run(), "ok")
    rollcall.check(v, _rollcall_run(dropped_out=1), "x")
    rollcall.check(v, _rollcall_run(answered_with_snapshot=2, covered=False), "y")
    assert v.failed == [
        "x: no station dropped out",
        "y: every station answered with a snapshot",
        "y: coverage",
    ]


def _webrtc_rows(**over: Any) -> list[dict[str, Any]]:
    rows = []
    for rx, tx in (("console", "page"), ("page", "console"), ("a", "console"), ("a", "page"),
                   ("console", "a"), ("page", "a")):  # fmt: skip
        rows.append({"receiver": rx, "sender": tx, "received_fps": 20.0, "shown_fps": None,
                     "size": "640x480", "at_start": True})  # fmt: skip
    rows[0].update(over)
    return rows


def test_webrtc_check_fails_on_a_vanished_stream_and_a_wrong_size() -> None:
    from tests.bench import webrtc

    def failed(rows: list[dict[str, Any]]) -> list[str]:
        v = Verdict()
        webrtc.check(v, {"parties": 3, "rows": rows, "receivers": ["a", "console", "page"]}, "s")
        return v.failed

    assert failed(_webrtc_rows()) == []
    assert failed(_webrtc_rows(received_fps=0.0)) == [
        "s: every stream received frames in the window"
    ]
    assert failed(_webrtc_rows(at_start=False)) == ["s: every stream there from start to end"]
    assert failed(_webrtc_rows(size="320x240")) == ["s: every stream at 640x480"]
    assert failed(_webrtc_rows()[1:]) == [
        "s: rows = parties × (parties - 1)",
        "s: console sees every other party",
    ]
