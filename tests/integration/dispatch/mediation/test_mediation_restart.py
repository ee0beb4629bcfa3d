"""A hub restart loses nothing of a mediation session (issue 5, the project's standard).

A real `hall-hub` process is killed with SIGKILL in the middle of a session (one headless
Chromium participant and the console's aiortc peer, recording on) and started again on
the same SQLite file and ports. Nobody acts: the page shows 连接中断，正在重连… and comes
back, the page and the console receive each other's video again (frames counted), the
store's intervals show the gap, the recording cut by the kill decodes with PyAV, and the
session closes and files with its full participant record afterwards.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from sqlalchemy import create_engine, select

from dispatch.hub.process import HubProcess
from dispatch.mediation import store as ms
from tests.integration.dispatch.mediation.test_mediation_support import (
    INVITES,
    SHOTS,
    ConsolePeer,
    chromium,
    console_client,
    mediation_args,
    open_participant,
    page_frames,
    post_event,
    until,
)
from tests.kit.hub import StartHub
from tests.kit.paths import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.browser]

AWAY_S = 6.0  # how long the hub stays dead


@pytest.fixture
def hub(start_hub: StartHub, tmp_path: Path) -> HubProcess:
    return start_hub(**mediation_args(tmp_path, fixed_ports=True))


def wrong_pin(url: str, pin: str, ctx: ssl.SSLContext) -> tuple[int, str]:
    """POST a wrong PIN to a link: (status, page text)."""
    bad = f"{(int(pin) + 1) % 10**6:06d}"
    req = urllib.request.Request(
        url + "/login", data=urllib.parse.urlencode({"pin": bad}).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def decoded_seconds(path: Path) -> tuple[float, float]:
    """(video seconds, audio seconds) decoded by PyAV."""
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        rate = float(vs.average_rate or 15)
        frames = sum(1 for _ in c.decode(vs))
    with av.open(str(path)) as c:
        samples = sum(f.samples for f in c.decode(c.streams.audio[0]))
    return frames / rate, samples / 48_000


def test_hub_killed_mid_session_comes_back_and_files_everything(
    hub: HubProcess, tmp_path: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "hall.db"

    async def body() -> str:
        eid = post_event(hub, "山林权属纠纷", "med-restart-1")
        async with console_client(hub) as con, chromium(hub) as browser:
            rep = await con.mediation.open_mediation(eid, INVITES[:1])
            peer = ConsolePeer(hub, rep)
            await peer.client.start()
            try:
                (court,) = rep.links
                page = await open_participant(browser, hub.http_url + court.path, court.pin)
                await until(lambda: any(p["online"] for p in peer.state.get("participants", [])))
                await peer.admit(court.participant_id)
                pid = court.participant_id

                async def both_receive(after: dict[str, int], n: int) -> bool:
                    fp = await page_frames(page)
                    fc = peer.frames_by_peer()
                    return fp.get("host", 0) > after["page"] + n and fc.get(pid, 0) > (
                        after["console"] + n
                    )

                zero = {"page": 0, "console": 0}
                await until(lambda: both_receive(zero, 20))
                await peer.client.send({"type": "record", "on": True})
                await until(lambda: bool(peer.state.get("recording")))
                # a wrong PIN before the crash counts after it too (4 → 3 attempts left)
                link = hub.http_url + court.path
                status, text = await asyncio.to_thread(
                    wrong_pin, link, court.pin, hub.ssl_context()
                )
                assert status == 401 and "还可尝试 4 次" in text
                await asyncio.sleep(3.0)  # some recording and presence before the crash
                epoch = peer.state["epoch"]

                killed_at = datetime.now(UTC)
                hub.kill()
                # the page notices at once (its signalling socket dies) and says so
                await page.wait_for_function(
                    "() => document.getElementById('conn').textContent === '连接中断，正在重连…'",
                    timeout=15_000,
                )
                await page.screenshot(path=str(SHOTS / "mediation_hub_away.png"))
                await asyncio.sleep(AWAY_S)
                before = {
                    "page": (await page_frames(page)).get("host", 0),
                    "console": peer.frames_by_peer().get(pid, 0),
                }
                restarted_at = datetime.now(UTC)
                await asyncio.to_thread(hub.start, 60)
                # nobody acts: both come back and receive each other's video again
                try:
                    await until(lambda: both_receive(before, 30), 45)
                except TimeoutError:
                    log = await page.evaluate(
                        """async () => {
                          const st = await window.HALL.pc.getStats(); const v = [];
                          st.forEach((r) => { if (r.type === 'inbound-rtp')
                            v.push([r.mid, r.kind, r.framesDecoded, r.packetsReceived]); });
                          return [window.HALL.log, JSON.stringify(window.HALL.state.slots), v,
                            window.HALL.connections, window.HALL.rejoins];
                        }"""
                    )
                    raise AssertionError(
                        f"not back: page {await page_frames(page)} console "
                        f"{peer.frames_by_peer()} before {before} state {peer.client.state} "
                        f"page {log} hub {hub.stderr_text()[-1500:]}"
                    ) from None
                assert peer.state["epoch"] != epoch
                assert peer.client.hub_restarts == 1
                await page.wait_for_function(
                    "() => document.getElementById('conn').textContent === '通话中'", timeout=15_000
                )
                assert bool(peer.state.get("recording"))  # recording resumed in a new file
                status, text = await asyncio.to_thread(
                    wrong_pin, link, court.pin, hub.ssl_context()
                )
                assert status == 401 and "还可尝试 3 次" in text
                assert await page.evaluate("() => window.HALL.hubRestarts") == 1
                await page.screenshot(path=str(SHOTS / "mediation_hub_back.png"))
                await asyncio.sleep(2.0)
            finally:
                await peer.client.stop()

        # the intervals in the store show the gap (written at join and leave, the open
        # one closed at the hub's last known alive time by the restarted hub)
        eng = create_engine(f"sqlite:///{db}")
        try:
            people = {p.id.rsplit("/", 1)[-1]: p for p in ms.participants(eng, rep.session_id)}
            for who in ("host", pid):
                iv = people[who].intervals
                assert len(iv) >= 2, (who, iv)
                first_end = iv[0][1]
                assert first_end is not None
                assert first_end <= killed_at + timedelta(seconds=0.5), (who, iv)
                assert first_end >= killed_at - timedelta(seconds=6), (who, iv)  # ALIVE_S
                assert iv[1][0] >= restarted_at, (who, iv)
            assert people[pid].admitted and not people[pid].removed
        finally:
            eng.dispose()

        # close and file afterwards, from a console that logs in again
        async with console_client(hub) as con2:
            closed = await con2.mediation.close_mediation(
                rep.session_id, "agreement", notes="界线以溪为准"
            )
            assert closed.outcome == "agreement"
            timeline = await con2.events.timeline(eid)
        line = next(e.note for e in timeline if e.action == "mediation_close")
        assert "王法官" in line and "界线以溪为准" in line
        assert f"{rep.session_id}-1.mp4" in line and f"{rep.session_id}-2.mp4" in line
        return rep.session_id

    sid = asyncio.run(asyncio.wait_for(body(), 240))

    eng = create_engine(f"sqlite:///{db}")
    try:
        row = ms.session(eng, sid)
        assert row is not None and row.closed_at is not None and row.outcome == "agreement"
        with eng.connect() as c:
            files = json.loads(
                c.execute(
                    select(ms.mediation_sessions.c.recordings).where(
                        ms.mediation_sessions.c.id == row.id
                    )
                ).scalar_one()
            )
        assert [Path(f).name for f in files] == [f"{row.id}-1.mp4", f"{row.id}-2.mp4"]
        assert row.recording_path == files[-1] and row.recording_sha256
        # the file the kill cut short is kept and plays as far as it got (≥ 3 s recorded)
        v, a = decoded_seconds(Path(files[0]))
        assert 2.0 <= v <= 30 and 2.0 <= a <= 30, (v, a)
        v2, a2 = decoded_seconds(Path(files[1]))
        assert v2 > 1.0 and a2 > 1.0, (v2, a2)
        assert ms.open_sessions(eng) == []
    finally:
        eng.dispose()


def test_a_recording_killed_with_sigkill_decodes(tmp_path: Path) -> None:
    """The recorder's fragmented MP4: a process killed while recording leaves a file that
    PyAV decodes up to its last fragment (a plain MP4 would have no index at all)."""
    import subprocess
    import sys

    out = tmp_path / "killed.mp4"
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from streams.webrtc.config import SyntheticCamera, ToneSource\n"
        "from streams.webrtc.recorder import Recorder\n"
        "async def main():\n"
        "    r = Recorder(Path(sys.argv[1]))\n"
        "    r.set_sources([('法官 王法官', SyntheticCamera('x', 320, 240), ToneSource())])\n"
        "    await r.start()\n"
        "    print('started', flush=True)\n"
        "    await asyncio.sleep(120)\n"
        "asyncio.run(main())\n"
    )
    root = ROOT
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(out)], stdout=subprocess.PIPE, cwd=root
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"started"
        t0 = time.monotonic()
        time.sleep(4.5)
        proc.kill()
        elapsed = time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    v, a = decoded_seconds(out)
    # at most one fragment (KEY_S = 1 s) is lost; never more than was recorded
    assert elapsed - 2.0 <= v <= elapsed + 0.5, (v, elapsed)
    assert elapsed - 2.0 <= a <= elapsed + 0.5, (a, elapsed)
