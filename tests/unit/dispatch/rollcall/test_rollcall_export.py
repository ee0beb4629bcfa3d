"""Export of a week's roll-call log: CSV rows and a Chinese PDF (text extracted back)."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dispatch.domain.calendar import CHINA_TZ
from dispatch.rollcall import core as rc
from dispatch.rollcall.export import CSV_HEADER, export_week, week_csv, week_title

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=CHINA_TZ)
ROSTER = [
    rc.Centre("t01", "城关镇", "township", "t01", "城关镇"),
    rc.Centre("v01", "东街社区", "village", "t01", "城关镇"),
    rc.Centre("v02", "西街社区", "village", "t01", "城关镇"),
]
CENTRES = {c.id: c for c in ROSTER}


def make_run(shot: Path) -> rc.Run:
    run = rc.new_run("rc-1", ROSTER, [], NOW)
    calls = [
        rc.CallRecord(
            "t01",
            1,
            "answered",
            NOW,
            NOW + timedelta(seconds=5),
            NOW + timedelta(seconds=65),
            snapshot=str(shot),
            note="正常",
        ),
        rc.CallRecord("v01", 1, "no_answer", NOW, None, NOW + timedelta(seconds=60)),
        rc.CallRecord("v02", 1, "link_down", None, None, NOW),
        rc.CallRecord("v01", 2, "declined", NOW, None, NOW + timedelta(seconds=9)),
        rc.CallRecord("v02", 2, "link_down", None, None, NOW),
    ]
    for c in calls:
        run = rc.record(run, c, NOW)
    return run


def test_week_title() -> None:
    assert week_title(date(2026, 11, 16)) == "2026年第47周（11月16日—11月22日）"


def test_csv_has_one_row_per_call_in_chinese(tmp_path: Path) -> None:
    run = make_run(tmp_path / "none.png")
    text = week_csv(run.week, [run], CENTRES)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == CSV_HEADER
    assert [(r[3], r[4], r[5]) for r in rows[1:]] == [
        ("城关镇", "首次", "已接通"),
        ("东街社区", "首次", "无人应答"),
        ("西街社区", "首次", "链路中断"),
        ("东街社区", "补呼", "拒接"),
        ("西街社区", "补呼", "链路中断"),
    ]
    assert rows[1][8:10] == ["5.0", "60.0"] and rows[1][11] == "正常"
    assert rows[3][6] == "" and rows[3][8] == ""  # link down: never rung


@pytest.mark.integration  # runs poppler (pdftotext, pdfinfo, pdfimages) as processes
def test_pdf_holds_the_chinese_text_and_the_snapshot(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(shot)
    run = make_run(shot)
    cov = rc.coverage(ROSTER, [], run.week, run.calls, "测试县")
    old_umask = os.umask(0o022)
    try:
        files = export_week(tmp_path / "exports", run.week, [run], cov, CENTRES, "测试县")
    finally:
        os.umask(old_umask)
    assert [f.suffix for f in files] == [".csv", ".pdf"]
    # personal data at rest: owner-only whatever the umask (issue 12, hole 5)
    assert [stat.S_IMODE(p.stat().st_mode) for p in (files[0].parent, *files)] == [
        0o700,
        0o600,
        0o600,
    ]
    out = subprocess.run(
        ["pdftotext", "-layout", str(files[1]), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    for words in (
        "测试县 视频点名调度日志",
        "城关镇",
        "链路中断",
        "应答人快照",
        "33%",
    ):
        assert words in out, words
    pages = subprocess.run(
        ["pdfinfo", str(files[1])], capture_output=True, text=True, timeout=30
    ).stdout
    assert re.search(r"^Pages:\s+3$", pages, re.M), pages
    images = subprocess.run(
        ["pdfimages", "-list", str(files[1])], capture_output=True, text=True, timeout=30
    ).stdout
    assert re.search(r"^\s+3\s+0\s+image\s", images, re.M), images  # snapshot on page 3
