"""A county meeting as the console sees it, for the meeting view's tests and screenshot:
20 townships, 18 in the room, one with the floor, two talking, two hands up, one muted;
and pictures (a coloured test card per participant, its name's number drawn as bars)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from console.meetings.model import HALL, MeetingsModel, Picture
from dispatch.meetings.messages import InviteeInfo, MeetingInfo

AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
NAMES = [
    "城关镇", "河西镇", "东湖街道", "西山镇", "南岭乡", "北坡镇", "青石镇", "柳林乡",
    "王家庄村", "白马镇", "红旗街道", "新华镇", "长安镇", "石桥乡", "桃源镇", "双河镇",
    "李庄村", "金沙镇", "云台乡", "清水镇",
]  # fmt: skip


def sample_meeting(names: list[str] | None = None) -> MeetingInfo:
    names = names or NAMES
    invited = [
        InviteeInfo(id=f"t{i:02d}", name=n, level="township", township_name=n)
        for i, n in enumerate(names, 1)
    ]
    ids = [c.id for c in invited]
    absent = {ids[8], ids[16]}  # 王家庄村, 李庄村
    present = [c for c in ids if c not in absent]
    return MeetingInfo(
        id="mt-1",
        title="十二月全县综治工作视频调度会",
        convenor="duty",
        invited=invited,
        start_at=AT,
        agenda="一、安全生产\n二、矛盾纠纷排查",
        status="open",
        status_zh="进行中",
        created_at=AT - timedelta(hours=1),
        opened_at=AT,
        floor=ids[1],
        joined={c: AT for c in present},
        absent=sorted(absent),
        present=present,
        hands=[ids[4], ids[11]],
        muted=[ids[6]],
        talking=[ids[1], ids[2]],
    )


def card(colour: tuple[int, int, int], n: int, w: int = 320, h: int = 180) -> Picture:
    img = np.zeros((h, w, 4), np.uint8)
    img[:, :, 0], img[:, :, 1], img[:, :, 2], img[:, :, 3] = colour[2], colour[1], colour[0], 255
    for k in range(n % 8 + 1):
        img[h // 3 : 2 * h // 3, 20 + k * 30 : 35 + k * 30, :3] = 240
    return Picture(w, h, w * 4, img.tobytes())


def fill(model: MeetingsModel, m: MeetingInfo) -> None:
    model.show({m.id: m})
    model.set_joined(m.id)
    model.set_picture(HALL, card((30, 80, 160), 0, 960, 540))
    for i, c in enumerate(m.present):
        big = c == m.floor
        colour = (160, 60, 40) if big else (40, 110 + (i * 7) % 100, 70)
        model.set_picture(c, card(colour, i, *((960, 540) if big else (320, 180))))
