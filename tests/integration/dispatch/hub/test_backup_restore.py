"""`hall-hub backup` beside a running hub and `hall-hub restore` into an empty folder,
against real hub processes (issue 16, part 3): the restored hub serves the same events,
tasks, evidence and photo files, phone and mediation sessions (their links and PINs),
operators, the same CA and the same enrolled console; the archive is 0600 with a SHA-256
per member; intake running during the backup loses nothing acknowledged before it;
restore refuses a non-empty folder and a damaged archive with a clear message."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import stat
import subprocess
import sys
import tarfile
import threading
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from dispatch.client.connection import HubClient
from dispatch.client.keys import ConsoleKeys
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.process import HubProcess
from dispatch.mediation.messages import MediationInvite
from tests.integration.dispatch.tasks.test_hub_phone import console, png_bytes, post_event
from tests.kit.hub import StartHub
from tests.kit.paths import ROOT
from tests.kit.tls import hub_session

pytestmark = [pytest.mark.integration]


def hall_hub(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "dispatch.hub", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def list_events(hub: HubProcess) -> list[dict[str, Any]]:
    req = urllib.request.Request(
        f"{hub.http_url}/api/v1/events?limit=500", headers={"X-Api-Key": DEMO_API_KEY}
    )
    with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
        events: list[dict[str, Any]] = json.loads(resp.read())["events"]
    return sorted(events, key=lambda e: str(e["id"]))


class Intake(threading.Thread):
    """Posts events until stopped; `acked` are the ids the hub acknowledged."""

    def __init__(self, hub: HubProcess) -> None:
        super().__init__(daemon=True)
        self.hub, self.acked, self.stop = hub, list[str](), threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            self.acked.append(post_event(self.hub, "备份期间上报", f"during-{n}"))


async def fill(hub: HubProcess, snap: Path) -> dict[str, Any]:
    """Events, a task with evidence, a phone photo and a mediation session on `hub`."""
    eid = post_event(hub, "楼道堆放杂物", "backup-1")
    async with console(hub) as con:
        c = con.client
        task = await c.tasks.dispatch_event(eid)
        body = snap.read_bytes()
        att = await c.tasks.attach_evidence(
            eid, "snapshot", snap, hashlib.sha256(body).hexdigest(), size=len(body)
        )
        link = await c.tasks.issue_phone_link(task.assignee)
        med = await c.mediation.open_mediation(eid, [MediationInvite(role="party", name="张三")])
    async with hub_session(hub, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(hub.http_url + link.path + "/login", data={"pin": link.pin}) as r:
            assert r.status == 200
        url = f"{hub.http_url}{link.path}/api/tasks/{task.id}/photos"
        async with http.post(url, data=png_bytes(32, 32)) as r:
            assert r.status == 201, await r.text()
    return {
        "eid": eid,
        "att": att.id,
        "evidence": body,
        "link": link,
        "med": med.links[0],
    }


async def event_record(hub: HubProcess, eid: str, keys: ConsoleKeys) -> dict[str, Any]:
    """The event's tasks, attachments and timeline as a console gets them from `hub` (with
    `keys`: the original console's on a restored hub, so it must still be enrolled)."""
    c = HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=keys,
        workstation="test-console",
        on_change=lambda ch: None,
        on_connection=lambda st: None,
    )
    await c.start()
    try:
        await c.login("duty", "duty123")  # operators restored, console still enrolled
        detail = (await c.tasks.tasks_detail(eid)).model_dump(mode="json", exclude={"rid"})
        for att in detail["attachments"]:  # the same instant (a live hub says +08:00, a
            att["at"] = datetime.fromisoformat(att["at"]).timestamp()  # read row says Z)
        timeline = [a.model_dump(mode="json") for a in await c.events.timeline(eid)]
    finally:
        await c.stop()
    return {"detail": detail, "timeline": timeline}


async def check_served(hub: HubProcess, was: dict[str, Any]) -> None:
    """The files, phone and mediation sessions `fill` made are served by `hub`."""
    link, med = was["link"], was["med"]
    async with hub_session(hub, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(hub.http_url + link.path + "/login", data={"pin": link.pin}) as r:
            assert r.status == 200  # the phone session: same link, same PIN
        async with http.get(f"{hub.http_url}{link.path}/files/{was['att']}") as r:
            assert r.status == 200 and await r.read() == was["evidence"]
        url = hub.http_url + med.path + "/login"
        async with http.post(url, data={"pin": med.pin}, allow_redirects=False) as r:
            assert r.status == 303  # the mediation session's link and PIN


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_restored_hub_serves_what_the_running_hub_had(
    start_hub: StartHub, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    snap = tmp_path / "cam1.png"
    snap.write_bytes(png_bytes(64, 48))
    hub_a = start_hub(f"sqlite:///{a / 'hall.db'}", demo=True, data_dir=a)
    was = asyncio.run(fill(hub_a, snap))
    before = {e["id"] for e in list_events(hub_a)}
    archive = tmp_path / "backups" / "hall.tar"
    archive.parent.mkdir()
    intake = Intake(hub_a)
    intake.start()
    try:
        done = hall_hub("backup", "--to", str(archive), "--db", f"sqlite:///{a / 'hall.db'}")
    finally:
        intake.stop.set()
        intake.join(30)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    names = {m["name"] for m in manifest["members"]}
    assert "db/hall.db" in names and manifest["database"] == "sqlite"
    assert any(n.startswith("evidence/") for n in names)
    assert any(n.startswith("uploads/") for n in names)
    assert {"tls/ca.crt", "tls/ca.key"} <= names and any(n.startswith("keys/") for n in names)
    assert all(len(m["sha256"]) == 64 for m in manifest["members"])

    done = hall_hub("restore", str(archive), "--data-dir", str(b))
    assert done.returncode == 0, done.stderr
    for folder in ("uploads", "evidence", "tls"):
        assert file_hashes(b / folder) == file_hashes(a / folder), folder
    hub_b = start_hub(f"sqlite:///{b / 'hall.db'}", demo=True, data_dir=b)
    assert hub_b.ca_spki_b64() == hub_a.ca_spki_b64()  # phones keep trusting it
    restored = list_events(hub_b)
    got = {e["id"] for e in restored}
    assert before <= got  # everything acknowledged before the backup began
    assert got <= before | set(intake.acked)  # and nothing that was never acknowledged
    assert len(intake.acked) > 0
    on_a = {e["id"]: e for e in list_events(hub_a)}
    assert all(on_a[e["id"]] == e for e in restored)
    keys_a = hub_a.console_keys.model_copy(
        update={"req_endpoint": hub_b.req_endpoint, "pub_endpoint": hub_b.pub_endpoint}
    )
    record = asyncio.run(event_record(hub_a, was["eid"], hub_a.console_keys))
    assert record["detail"]["attachments"] and record["detail"]["tasks"]
    assert asyncio.run(event_record(hub_b, was["eid"], keys_a)) == record
    asyncio.run(check_served(hub_b, was))


def test_restore_refuses_a_folder_in_use_and_a_damaged_archive(
    start_hub: StartHub, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    hub_a = start_hub(f"sqlite:///{a / 'hall.db'}", demo=True, data_dir=a)
    post_event(hub_a, "占道经营", "r-1")
    done = hall_hub("backup", "--to", str(tmp_path), "--data-dir", str(a))
    assert done.returncode == 0, done.stderr
    (archive,) = tmp_path.glob("hall-backup-*.tar")
    again = hall_hub("backup", "--to", str(archive), "--data-dir", str(a))
    assert again.returncode == 1 and "never overwrites" in again.stderr
    # into the running hub's own folder: refused, nothing touched
    before = file_hashes(a / "tls")
    done = hall_hub("restore", str(archive), "--data-dir", str(a))
    assert done.returncode == 1 and "not empty" in done.stderr, done.stderr
    assert file_hashes(a / "tls") == before
    # one flipped byte in the database member: refused before anything is written
    damaged = tmp_path / "damaged.tar"
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        offset = tar.getmember("db/hall.db").offset_data
    data[offset + 200] ^= 0xFF
    damaged.write_bytes(bytes(data))
    c = tmp_path / "c"
    done = hall_hub("restore", str(damaged), "--data-dir", str(c))
    assert done.returncode == 1 and "SHA-256" in done.stderr, done.stderr
    assert not c.exists() or not any(c.iterdir())
    # not a backup at all
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"hello")
    done = hall_hub("restore", str(bogus), "--data-dir", str(c))
    assert done.returncode == 1 and "not a readable backup" in done.stderr, done.stderr
