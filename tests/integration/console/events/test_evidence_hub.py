"""The console's 附证据 against a real `hall-hub` (issue 12, hole 1): the controller
uploads the bytes of a snapshot the console saved (its SHA-256 from the sidecar), the
hub stores them under its own name and the event's timeline shows it; a sidecar that
does not match the file stores nothing and says so."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from console.events.strings import tr
from dispatch.hub.process import HubProcess
from dispatch.tasks.messages import AttachmentInfo
from tests.integration.console.events.test_event_queue_hub import Console, consoles, post_event
from tests.kit import pump_until

pytestmark = pytest.mark.integration

__all__ = ["consoles"]  # the fixture, used below by name

REPORT: dict[str, object] = {
    "source": "grid_report",
    "source_ref": "G-EV-1",
    "category": "neighbours",
    "title": "楼道堆放杂物",
    "place": {"township": "t01", "address": "东街"},
}


def test_the_console_uploads_its_snapshot_and_the_hub_keeps_it(
    hub: HubProcess, consoles: list[Console], tmp_path: Path
) -> None:
    duty = Console(hub, "席位A")
    consoles.append(duty)
    assert duty.login().ok
    eid = str(post_event(hub, REPORT)["id"])
    pump_until(lambda: eid in duty.ids(), 10, what="event shown")
    shots = tmp_path / "console-evidence"
    shots.mkdir()
    snap = shots / "cam1_20250303-090000.png"
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(300 * 1024)
    snap.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    # a sidecar that names this file but another digest: refused, nothing stored
    sidecar = snap.with_name(snap.name + ".sha256")
    sidecar.write_text(f"{'0' * 64}  {snap.name}\n", encoding="utf-8")
    got: list[AttachmentInfo | None] = []
    duty.queue.controller.attach_evidence(eid, "snapshot", snap, got.append)
    pump_until(lambda: bool(got), 20, what="refusal answered")
    assert got == [None] and "SHA-256" in duty.panel.status.text()
    store = tmp_path / "evidence"
    assert not store.exists() or list(store.iterdir()) == []
    sidecar.write_text(f"{digest}  {snap.name}\n", encoding="utf-8")
    got.clear()
    duty.queue.controller.attach_evidence(eid, "snapshot", snap, got.append)
    pump_until(lambda: bool(got), 20, what="upload answered")
    att = got[0]
    assert att is not None and att.sha256 == digest and att.name == snap.name
    assert (store / f"{digest}.png").read_bytes() == data
    assert duty.panel.status.text() == tr("status.evidence_attached", title="楼道堆放杂物")
