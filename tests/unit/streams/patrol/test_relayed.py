"""The patrol through relays: probe URLs, the relay's word on a camera, round length."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.patrol.relayed import (
    explain,
    implied_interval,
    probe_url,
    reason_from_relay,
    round_seconds,
)
from streams.patrol.types import CameraCheck, OfflineReason
from streams.relay.states import Upstream, UpstreamState

AT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def offline(reason: OfflineReason) -> CameraCheck:
    return CameraCheck(camera="cam1", at=AT, online=False, reason=reason, detail="HTTP 503")


def up(state: UpstreamState, error: str = "") -> Upstream:
    return Upstream(camera="cam1", stream="sub", state=state, error=error, since=AT)


def test_probe_url_marks_the_probe_once() -> None:
    assert probe_url("rtsp://r:8554/cam1/sub") == "rtsp://r:8554/cam1/sub?patrol=1"
    assert probe_url("rtsp://r/cam1/sub?x=1") == "rtsp://r/cam1/sub?x=1&patrol=1"
    assert probe_url("rtsp://r/cam1/sub?patrol=1") == "rtsp://r/cam1/sub?patrol=1"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("no picture from the camera within 5 s", OfflineReason.TIMEOUT),
        ("no data from the camera for 5 s", OfflineReason.TIMEOUT),
        ("Could not read from resource.", OfflineReason.TIMEOUT),
        (
            "Could not open resource for reading and writing. Failed to connect. "
            "(Timeout while waiting for server response)",
            OfflineReason.TIMEOUT,
        ),
        (
            "Could not open resource for reading and writing. Failed to connect. (Generic error)",
            OfflineReason.REFUSED,
        ),
        ("Unauthorized", OfflineReason.AUTH),
        ("Not Found", OfflineReason.NOT_FOUND),
        ("Could not open resource for reading and writing.", OfflineReason.REFUSED),
        ("the camera ended the stream", OfflineReason.ERROR),
    ],
)
def test_reason_from_the_relays_error(error: str, reason: OfflineReason) -> None:
    assert reason_from_relay(error) is reason


def test_a_refused_probe_takes_the_relays_failure() -> None:
    got = explain(
        offline(OfflineReason.ERROR), up(UpstreamState.FAILED, "no data from the camera for 5 s")
    )
    assert got.reason is OfflineReason.TIMEOUT
    assert got.detail == "relay: no data from the camera for 5 s"


def test_a_probe_the_relay_could_not_explain_is_not_checked_never_offline() -> None:
    # the relay still connecting after the probe gave up (it waits longer than the
    # relay's own open timeout): the relay runs late, nothing is known of the camera
    for upstream in (
        up(UpstreamState.CONNECTING),
        up(UpstreamState.LIVE),  # the relay had the picture; this probe got none
        up(UpstreamState.IDLE),  # dropped without a failure
        None,  # the relay said nothing of the camera
    ):
        for reason in (OfflineReason.ERROR, OfflineReason.TIMEOUT, OfflineReason.NO_KEYFRAME):
            got = explain(offline(reason), upstream)
            assert got.reason is OfflineReason.NOT_CHECKED, (upstream, reason)
            assert not got.online and not got.checked and not got.healthy
            assert got.detail.startswith("relay")


@pytest.mark.parametrize(
    "error",
    [
        "no picture from the camera within 5 s (it answered, no key frame yet)",
        "no picture from the camera within 5 s (relay busy: its loop ran 2.4 s late)",
        "no picture from the camera within 5 s (it answered, no key frame yet) "
        "(relay busy: its loop ran 0.8 s late)",
    ],
)
def test_a_relay_failure_that_is_not_the_cameras_is_not_checked(error: str) -> None:
    got = explain(offline(OfflineReason.ERROR), up(UpstreamState.FAILED, error))
    assert got.reason is OfflineReason.NOT_CHECKED
    assert got.detail == f"relay: {error}"


def test_a_relay_that_refuses_the_connection_is_down_not_the_camera() -> None:
    got = explain(offline(OfflineReason.REFUSED), up(UpstreamState.FAILED, "Unauthorized"))
    assert got.reason is OfflineReason.NOT_CHECKED
    assert got.detail.startswith("relay unreachable")


def test_the_cameras_own_answers_and_online_checks_stay() -> None:
    for reason in (OfflineReason.AUTH, OfflineReason.NOT_FOUND, OfflineReason.NO_VIDEO):
        check = offline(reason)
        assert explain(check, None) is check
        assert explain(check, up(UpstreamState.LIVE)) is check
    online = CameraCheck(camera="cam1", at=AT, online=True)
    assert explain(online, None) is online and online.checked
    # the probe's own timeout with the relay's word on the camera: the relay's reason
    got = explain(offline(OfflineReason.TIMEOUT), up(UpstreamState.FAILED, "Unauthorized"))
    assert got.reason is OfflineReason.AUTH


def test_round_is_the_slowest_groups_waves() -> None:
    vias = ["r1"] * 1250 + ["r2"] * 1250 + [""] * 16
    # 1250 / 32 = 40 waves of 4 s, plus the retry margin; the 16 direct: 2 waves of 8
    assert round_seconds(vias, concurrency=8, relay_concurrency=32) == pytest.approx(192.0)
    assert round_seconds([], concurrency=8, relay_concurrency=32) == 0.0
    with pytest.raises(ValueError, match="at least 1"):
        round_seconds(vias, concurrency=0, relay_concurrency=32)


def test_a_county_too_big_for_the_interval_stretches_it() -> None:
    vias = ["r1"] * 5000
    assert implied_interval(300, vias, concurrency=8, relay_concurrency=32) == 754
    assert implied_interval(300, vias[:100], concurrency=8, relay_concurrency=32) == 300


def test_key_frames_are_kept_apart_in_stream_time() -> None:
    from streams.patrol.probe import Step, choose

    assert choose(0.0, None, None, None, 0, 1.0) is Step.KEEP  # the first one
    assert choose(2.0, 2.0, 0.0, None, 1, 1.0) is Step.KEEP  # 2 s by decoding time
    # key frames decoded in one burst (a starved second): the newest takes the place of
    # the last kept one, whatever their stamps say
    assert choose(0.05, 2.0, 0.0, None, 1, 1.0) is Step.REPLACE
    assert choose(0.10, 8.0, 0.05, 2.0, 1, 1.0) is Step.REPLACE
    # not a burst: the first had no stream time, this one has: it takes the first's place
    assert choose(0.5, 2.0, 0.0, None, 1, 1.0) is Step.REPLACE
    assert choose(2.5, 4.0, 0.5, 2.0, 1, 1.0) is Step.KEEP  # 2 s of stream apart
    assert choose(1.0, 2.5, 0.5, 2.0, 1, 1.0) is Step.SKIP  # 0.5 s of stream apart
    assert choose(0.5, None, 0.0, None, 1, 1.0) is Step.SKIP  # no stream times at all
