"""The meetings service on a real SQLite file through the hub's single writer, with a
recording fake of the media engine (the engine's own tests run the real Janus): plan,
invitations reaching a station's socket, join with a ticket, raise hand, the floor
muting everybody else in the engine, remove, lock, end with the recording's SHA-256,
minutes, the log and the record surviving a restart, bad input refused with nothing lost.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dispatch.db.store import Store
from dispatch.domain.calendar import CHINA_TZ
from dispatch.domain.site import parse_site
from dispatch.domain.wire import HubError, decode_with
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.meetings import core as mc
from dispatch.meetings.media import Participant, RecordingCut, RoomTicket
from dispatch.meetings.messages import (
    MeetFloor,
    MeetGone,
    MeetHand,
    MeetingChanged,
    MeetingsCreateRequest,
    MeetingsEndRequest,
    MeetingsFloorRequest,
    MeetingsGetRequest,
    MeetingsKickRequest,
    MeetingsListRequest,
    MeetingsLockRequest,
    MeetingsMinutesRequest,
    MeetingsOpenRequest,
    MeetingsUnmuteRequest,
    MeetInvite,
    MeetJoin,
    MeetLeave,
    MeetOut,
    MeetRefused,
    MeetTicket,
)
from dispatch.meetings.service import MeetingsService
from dispatch.reports.sections.meetings import MeetingsSection
from dispatch.rollcall.core import roster_from_site
from dispatch.rollcall.export import export_week
from dispatch.rollcall.service.requests import week_meetings
from streams.webrtc.config import static_ice
from tests.kit.clock import FakeClock

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=CHINA_TZ)
SITE = parse_site(
    {
        "name": "测试县综治中心",
        "townships": [{"id": "t1", "name": "城关镇"}, {"id": "t2", "name": "河西镇"}],
        "villages": [{"id": "t1v1", "name": "王家庄村", "township": "t1"}],
    }
)
S = Session("tok", "duty", "duty_officer", "hall-1")  # type: ignore[arg-type]


class FakeMedia:
    """Records what the service asks; `participants` are the admitted who `arrive`."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.rooms: dict[str, RoomTicket] = {}
        self.parts: dict[str, list[Participant]] = {}
        self.muted: dict[int, bool] = {}
        self.recreated: Callable[[str], None] | None = None

    async def start(self) -> None:
        self.calls.append(("start",))

    async def stop(self) -> None:
        self.calls.append(("stop",))

    async def open_room(
        self, meeting_key: str, *, title: str, max_publishers: int, record_dir: Path | None
    ) -> RoomTicket:
        self.calls.append(("open", meeting_key, max_publishers))
        assert record_dir is not None
        (record_dir / "hall-video.mjr").write_bytes(b"rtp")
        t = RoomTicket(meeting_key, 1234, "424242", "https://hub.test/janus")
        self.rooms[meeting_key] = t
        self.parts[meeting_key] = []
        return t

    async def close_room(self, meeting_key: str) -> None:
        self.calls.append(("close", meeting_key))
        self.rooms.pop(meeting_key)

    async def admit(self, meeting_key: str, participant: str) -> str:
        self.calls.append(("admit", participant))
        return f"tok-{participant}"

    async def revoke(self, meeting_key: str, token: str) -> None:
        self.calls.append(("revoke", token))

    async def set_muted(self, meeting_key: str, feed: int, muted: bool) -> None:
        self.muted[feed] = muted

    async def kick(self, meeting_key: str, feed: int) -> None:
        self.calls.append(("kick", feed))
        self.parts[meeting_key] = [p for p in self.parts[meeting_key] if p.feed != feed]

    async def set_locked(self, meeting_key: str, locked: bool) -> None:
        self.calls.append(("lock", locked))

    def on_recreated(self, cb: Callable[[str], None]) -> None:
        self.recreated = cb

    async def participants(self, meeting_key: str) -> list[Participant]:
        return list(self.parts.get(meeting_key, []))

    def arrive(self, key: str, display: str, feed: int, talking: bool = False) -> None:
        self.parts[key].append(Participant(feed, display, talking))


CUTS: list[RecordingCut] = []


def finish(folder: Path, cut: RecordingCut) -> tuple[Path, str]:
    CUTS.append(cut)
    mp4 = folder / "meeting.mp4"
    mp4.write_bytes(b"".join(p.read_bytes() for p in sorted(folder.glob("*.mjr"))))
    return mp4, hashlib.sha256(mp4.read_bytes()).hexdigest()


def make(tmp: Path, clock: FakeClock, media: FakeMedia, published: list[MeetingChanged]):  # type: ignore[no-untyped-def]
    hub = HubService(Store(f"sqlite:///{tmp / 'hall.db'}"), clock=clock)
    from pydantic import TypeAdapter

    ad: TypeAdapter[MeetingChanged] = TypeAdapter(MeetingChanged)
    svc = MeetingsService(
        hub,
        SITE,
        clock=clock,
        ice=static_ice(),
        media=media,  # type: ignore[arg-type]
        record_root=tmp / "meetings",
        finish=finish,
        publish=lambda b: published.append(decode_with(ad, b)),
        poll_s=3600,
    )
    return hub, svc


def req(cls, **kw):  # type: ignore[no-untyped-def]
    return cls(rid="r1", token="tok", **kw)


def test_a_meeting_from_plan_to_record(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    media = FakeMedia()
    published: list[MeetingChanged] = []

    async def first_life() -> str:
        hub, svc = make(tmp_path, clock, media, published)
        await hub.start()
        await svc.start()
        try:
            return await scenario(svc, clock, media, published)
        finally:
            await svc.stop()
            await hub.stop()

    mid = asyncio.run(first_life())

    async def second_life() -> None:
        hub, svc = make(tmp_path, clock, FakeMedia(), [])
        await hub.start()
        await svc.start()
        try:
            got = await svc.handle(S, req(MeetingsGetRequest, meeting_id=mid))
            m = got.meeting  # type: ignore[union-attr]
            assert m.status == "ended" and m.minutes == "一、布置了年终安全检查。"
            assert (
                m.recording == "meeting.mp4"
                and m.recording_sha256 == hashlib.sha256(b"rtp").hexdigest()
            )
            assert set(m.joined) == {"t1", "t2"} and m.absent == ["t1v1"]
            assert m.speakers == ["t2"] and m.duration_s == 1800
            kinds = [e.kind for e in got.log]  # type: ignore[union-attr]
            assert kinds == [
                "open",
                "join",
                "join",
                "hand",
                "floor",
                "unmute",
                "kick",
                "lock",
                "leave",
                "end",
            ]
            week = await svc.handle(S, req(MeetingsListRequest))
            assert [x.id for x in week.meetings] == [mid]  # type: ignore[union-attr]
            record(tmp_path, hub, mid)
        finally:
            await svc.stop()
            await hub.stop()

    asyncio.run(second_life())


async def scenario(
    svc: MeetingsService, clock: FakeClock, media: FakeMedia, published: list[MeetingChanged]
) -> str:
    pages: dict[str, list[MeetOut]] = {c: [] for c in ("t1", "t2", "t1v1")}
    for c, box in pages.items():
        svc.station_connected(c, box.append)
    # bad input: refused, nothing written
    for bad in ({"invited": ["nowhere"]}, {"title": "  "}, {"invited": []}):
        kw = {"title": "周例会", "invited": ["t1"], "start_at": T0 + timedelta(minutes=5), **bad}
        with pytest.raises(HubError) as err:
            await svc.handle(S, req(MeetingsCreateRequest, **kw))
        assert err.value.code == "invalid"
    assert published == [] and all(not box for box in pages.values())

    rep = await svc.handle(
        S,
        req(
            MeetingsCreateRequest,
            title="周例会",
            invited=["t1", "t2", "t1v1"],
            start_at=T0 + timedelta(minutes=5),
            agenda="安全生产",
        ),
    )
    mid = rep.meeting.id  # type: ignore[union-attr]
    assert published[-1].meeting.status == "planned" and published[-1].seq == rep.seq  # type: ignore[union-attr]
    invite = pages["t1v1"][-1]
    assert isinstance(invite, MeetInvite) and invite.left_s == 300 and not invite.open
    assert invite.names["t1v1"] == "王家庄村"
    # not open yet: joining is refused with the reason
    refused = await svc.station_message("t1", MeetJoin(type="join", meeting_id=mid))
    assert isinstance(refused, MeetRefused) and "待召开" in refused.message

    clock.advance(minutes=5)
    await svc.handle(S, req(MeetingsOpenRequest, meeting_id=mid))
    assert ("open", mid, 4) in media.calls
    assert isinstance(pages["t1"][-2], MeetInvite) and pages["t1"][-2].open  # type: ignore[union-attr]

    t = await svc.station_message("t1", MeetJoin(type="join", meeting_id=mid))
    assert isinstance(t, MeetTicket) and t.room == 1234 and t.pin == "424242"
    assert t.token == "tok-t1" and t.display == "t1"
    clock.advance(seconds=30)
    assert isinstance(
        await svc.station_message("t2", MeetJoin(type="join", meeting_id=mid)), MeetTicket
    )
    media.arrive(mid, mc.HALL, 1)
    media.arrive(mid, "t1", 2, talking=True)
    media.arrive(mid, "t2", 3)
    lv = svc.board.live[mid]
    assert await svc.room.sync(lv)
    assert lv.talking == {"t1"}

    hand = await svc.station_message("t2", MeetHand(type="hand", meeting_id=mid))
    assert isinstance(hand, MeetFloor) and hand.hand
    assert published[-1].meeting.hands == ["t2"]

    await svc.handle(S, req(MeetingsFloorRequest, meeting_id=mid, centre="t2"))
    assert media.muted == {1: False, 2: True, 3: False}  # the hall is never muted
    floor = [m for m in pages["t1"] if isinstance(m, MeetFloor)][-1]
    assert floor.centre == "t2" and floor.name == "河西镇" and floor.muted
    assert published[-1].meeting.floor == "t2" and published[-1].meeting.hands == []

    # Janus restarted: the room is re-made, its feeds are new and get the floor's mutes
    assert media.recreated is not None
    media.parts[mid] = [Participant(21, mc.HALL), Participant(22, "t1"), Participant(23, "t2")]
    media.recreated(mid)
    assert await svc.room.sync(lv)
    assert {f: media.muted[f] for f in (21, 22, 23)} == {21: False, 22: True, 23: False}
    media.parts[mid] = [Participant(1, mc.HALL), Participant(2, "t1"), Participant(3, "t2")]
    assert await svc.room.sync(lv)
    await svc.handle(S, req(MeetingsUnmuteRequest, meeting_id=mid, centre="t1"))
    assert media.muted[2] is False
    await svc.handle(S, req(MeetingsKickRequest, meeting_id=mid, centre="t1"))
    assert ("kick", 2) in media.calls and ("revoke", "tok-t1") in media.calls
    assert isinstance(pages["t1"][-1], MeetGone) and pages["t1"][-1].reason == "removed"  # type: ignore[union-attr]
    again = await svc.station_message("t1", MeetJoin(type="join", meeting_id=mid))
    assert isinstance(again, MeetRefused) and "移出" in again.message

    await svc.handle(S, req(MeetingsLockRequest, meeting_id=mid, locked=True))
    late = await svc.station_message("t1v1", MeetJoin(type="join", meeting_id=mid))
    assert isinstance(late, MeetRefused) and "锁定" in late.message
    assert published[-1].meeting.status_line == "已入会 1/3，未入会：城关镇、王家庄村"

    clock.advance(minutes=29, seconds=30)
    end = await svc.handle(S, req(MeetingsEndRequest, meeting_id=mid))
    assert end.meeting.status == "ended" and ("close", mid) in media.calls  # type: ignore[union-attr]
    cut = CUTS[-1]  # the recording is cut by the floor log; every feed the room had is named
    assert cut.names == {1: mc.HALL, 2: "t1", 3: "t2", 21: mc.HALL, 22: "t1", 23: "t2"}
    assert [c for _, c in cut.floor] == ["t2"]  # the floor to t2 (t1 kicked: t2 kept it)
    assert cut.speaker_at(cut.floor[0][0] + 1) == "t2" and cut.speaker_at(0) is None
    assert isinstance(pages["t2"][-1], MeetGone) and pages["t2"][-1].reason == "ended"  # type: ignore[union-attr]
    left = await svc.station_message("t2", MeetLeave(type="leave", meeting_id=mid))
    assert isinstance(left, MeetRefused)  # the meeting is gone
    await svc.handle(
        S, req(MeetingsMinutesRequest, meeting_id=mid, minutes="一、布置了年终安全检查。")
    )
    seqs = [p.seq for p in published]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    return mid


def record(tmp: Path, hub: HubService, mid: str) -> None:
    """The monthly report's section and the 调度日志 export read the same record."""
    eng = hub.store.engine
    sec = MeetingsSection().section(eng, T0 - timedelta(days=1), T0 + timedelta(days=7))
    assert sec is not None
    figs = {f.label: f.value for f in sec.figures}
    assert figs["召开会议"] == "1" and figs["取消会议"] == "0"
    assert figs["入会中心"] == "2/3（67%）" and figs["未入会（中心·次）"] == "1"
    assert figs["点名发言次数"] == "1" and figs["会议总时长"] == "30 分钟"
    centres = {c.id: c for c in roster_from_site(SITE)}
    header, rows = week_meetings(eng, T0.date() - timedelta(days=2), centres, T0)
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["入会（时间）"] == "城关镇（09:05）、河西镇（09:05）"
    assert row["未入会"] == "王家庄村" and row["发言"] == "河西镇" and row["时长(分)"] == "30"
    assert row["录像 SHA-256"] == hashlib.sha256(b"rtp").hexdigest()
    files = export_week(tmp / "out", T0.date(), [], [], centres, "测试县", ("csv",), (header, rows))
    assert [f.name for f in files] == ["rollcall-2026-12-02.csv", "meetings-2026-12-02.csv"]
    text = files[1].read_text(encoding="utf-8-sig")
    assert "一、布置了年终安全检查。" in text and "王家庄村" in text
