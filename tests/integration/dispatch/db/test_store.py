"""The store on SQLite (a real file) and PostgreSQL (scripts/test.sh's server): same tests."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from dispatch.db import store
from dispatch.db.migrations import current_revision
from dispatch.domain.model import (
    Action,
    Actor,
    Colour,
    Event,
    EventIntake,
    EventSource,
    EventState,
    Place,
    Role,
)
from dispatch.domain.wire import encode
from dispatch.events.core import apply, new_event
from dispatch.events.messages import EventChanged
from dispatch.events.service import change_payload
from dispatch.hub.clock import CHINA_TZ
from dispatch.hub.writer import Committed, GroupWriter, Refused, Tx

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=CHINA_TZ)
DUTY = Actor(operator="duty", role=Role.DUTY_OFFICER, workstation="席位1")


def _reset_pg(url: str) -> None:
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hall.db'}"
    url: str = request.getfixturevalue("pg_url")
    _reset_pg(url)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[store.Store]:
    s = store.Store(db_url)
    s.open()
    try:
        yield s
    finally:
        s.close()


def make_event(n: int, *, ref: str | None = None, township: str = "t01") -> Event:
    intake = EventIntake(
        source=EventSource.GRID_REPORT,
        source_ref=ref if ref is not None else f"ref-{n}",
        category="neighbours",
        title=f"邻里纠纷 {n}",
        place=Place(township=township),
    )
    ev, _ = new_event(intake, event_id=f"E-{n}", now=T0)
    return ev


def insert(db: store.Store, ev: Event) -> int:
    _, entry = new_event(
        EventIntake(source=ev.source, category=ev.category, title=ev.title),
        event_id=ev.id,
        now=T0,
    )
    with db.transaction() as conn:
        return store.insert_event(
            conn, ev, Colour.GREEN, [entry], change_payload(ev, Colour.GREEN, [entry])
        )


def migration_head() -> str:
    """The newest revision in dispatch/db/migrations/versions, read from the files themselves."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(Path(store.__file__).resolve().parent / "migrations")
    )
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, f"migrations must have one head, not {heads}"
    return str(heads[0])


def test_open_migrates_to_head_and_reopens(db_url: str) -> None:
    s = store.Store(db_url)
    s.open()
    s.open()  # twice is fine
    with s.engine.connect() as conn:
        assert current_revision(conn) == migration_head()
    s.close()
    s.close()
    s2 = store.Store(db_url)
    s2.open()
    assert s2.last_seq() == 0
    s2.close()


def test_insert_load_timeline_and_persistent_seq(db_url: str) -> None:
    s = store.Store(db_url)
    s.open()
    seqs = [insert(s, make_event(i)) for i in range(3)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    ev = s.get_event("E-1")
    assert ev is not None and ev.title == "邻里纠纷 1"
    assert ev.accepted_at == T0
    tl = s.timeline("E-1")
    assert [a.to_state for a in tl] == [EventState.ACCEPTED]
    s.close()
    s = store.Store(db_url)
    s.open()
    assert s.last_seq() == seqs[-1]
    assert insert(s, make_event(9)) > seqs[-1]  # seq continues across restarts
    assert [c[0] for c in s.changes_since(seqs[0])] == [seqs[1], seqs[2], seqs[2] + 1]
    s.close()


def test_source_ref_is_unique_but_empty_refs_are_not(db: store.Store) -> None:
    insert(db, make_event(1, ref="X-1"))
    with pytest.raises(IntegrityError):
        insert(db, make_event(2, ref="X-1"))
    insert(db, make_event(3, ref=""))
    insert(db, make_event(4, ref=""))
    assert db.count_events() == 3
    with db.transaction() as conn:
        found = store.find_by_source_ref(conn, EventSource.GRID_REPORT, "X-1")
    assert found is not None and found.id == "E-1"


def test_update_checks_version_and_appends_audit(db: store.Store) -> None:
    ev = make_event(1)
    insert(db, ev)
    tr = apply(ev, Action.REGISTER, DUTY, T0 + timedelta(minutes=5))
    with db.transaction() as conn:
        seq = store.update_event(
            conn, tr.event, Colour.GREEN, ev.version, [tr.audit], "{}", tr.event.updated_at
        )
    assert seq == db.last_seq()
    got = db.get_event(ev.id)
    assert got is not None and got.state is EventState.REGISTERED and got.version == 2
    tl = db.timeline(ev.id)
    assert [(a.operator, a.workstation) for a in tl] == [("system", "hub"), ("duty", "席位1")]
    with pytest.raises(store.VersionConflict), db.transaction() as conn:
        store.update_event(conn, tr.event, Colour.GREEN, 1, [tr.audit], "{}", T0)
    assert len(db.timeline(ev.id)) == 2  # the failed update left nothing behind


def test_list_filters_and_open_events(db: store.Store) -> None:
    insert(db, make_event(1, township="t01"))
    insert(db, make_event(2, township="t02"))
    ev3 = make_event(3, township="t02")
    insert(db, ev3)
    assert {e.id for e in db.list_events(township="t02")} == {"E-2", "E-3"}
    assert len(db.list_events(state=EventState.ACCEPTED, limit=2)) == 2
    assert db.list_events(state=EventState.ARCHIVED) == []
    assert db.list_events(source=EventSource.PETITION) == []
    assert {e.id for e, _, _ in db.open_events()} == {"E-1", "E-2", "E-3"}


def test_operators_api_keys_and_reminders(db: store.Store) -> None:
    with db.transaction() as conn:
        store.upsert_operator(conn, "duty", Role.DUTY_OFFICER, "scrypt$x", T0)
        store.put_api_key(conn, "k" * 20, "grid-app", [EventSource.GRID_REPORT], T0)
        store.set_reminder(conn, "E-1", T0)
        store.set_reminder(conn, "E-1", T0 + timedelta(hours=1))
    op = db.operator("duty")
    assert op is not None and op.role is Role.DUTY_OFFICER and not op.disabled
    assert db.operator("nobody") is None
    key = db.api_key("k" * 20)
    assert key is not None and key.sources == frozenset({EventSource.GRID_REPORT})
    assert db.api_key("wrong") is None
    assert db.reminder("E-1") == (T0 + timedelta(hours=1), 2)


def test_group_writer_commits_batches_and_isolates_failures(db: store.Store) -> None:
    published: list[list[Committed]] = []
    gate = threading.Event()
    w = GroupWriter(db, published.append)
    w.start()
    w.start()
    try:
        # hold the writer on a first job so that the next ones pile up into one batch
        first = w.submit(lambda tx: gate.wait(10))

        def ok(n: int) -> object:
            def job(tx: Tx) -> int:
                ev = make_event(n)
                seq = store.insert_event(
                    tx.conn, ev, Colour.GREEN, [], change_payload(ev, Colour.GREEN, [])
                )
                ch = EventChanged(seq=seq, event=ev, colour=Colour.GREEN)
                tx.published.append(Committed(ch, encode(ch), ""))
                return seq

            return job

        def bad(tx: Tx) -> int:
            store.insert_event(
                tx.conn, make_event(99, ref="ref-1"), Colour.GREEN, [], "{}"
            )  # duplicate source_ref of event 1 -> IntegrityError
            return 0

        futs = [w.submit(ok(1)), w.submit(bad), w.submit(ok(2))]  # type: ignore[arg-type]
        gate.set()
        assert first.result(10) is True
        s1 = futs[0].result(10)
        with pytest.raises(IntegrityError):
            futs[1].result(10)
        s2 = futs[2].result(10)
        assert s2 > s1
    finally:
        w.stop()
        w.stop()
    assert db.count_events() == 2
    flat = [c.change.seq for batch in published for c in batch]
    assert flat == [s1, s2]
    with pytest.raises(Exception, match="not running"):
        w.submit(lambda tx: 1).result(1)


def test_a_job_refused_before_writing_costs_its_batch_no_second_run(db: store.Store) -> None:
    """`Refused`: the caller gets the error, the others commit, and the batch is not
    rolled back and run again with savepoints (`retried_batches`)."""
    gate = threading.Event()
    w = GroupWriter(db, lambda _c: None)
    w.start()
    try:
        first = w.submit(lambda tx: gate.wait(10))

        def ok(n: int) -> object:
            def job(tx: Tx) -> int:
                ev = make_event(n)
                return store.insert_event(
                    tx.conn, ev, Colour.GREEN, [], change_payload(ev, Colour.GREEN, [])
                )

            return job

        def refused(tx: Tx) -> int:
            raise Refused(ValueError("not in this state"))

        futs = [w.submit(ok(1)), w.submit(refused), w.submit(ok(2))]  # type: ignore[arg-type]
        gate.set()
        assert first.result(10) is True
        assert futs[0].result(10) < futs[2].result(10)
        with pytest.raises(ValueError, match="not in this state"):
            futs[1].result(10)
    finally:
        w.stop()
    assert db.count_events() == 2
    assert w.retried_batches == 0 and w.jobs == 4


def test_concurrent_writers_threads_share_one_writer(db: store.Store) -> None:
    w = GroupWriter(db, lambda _c: None)
    w.start()
    try:

        def job(n: int) -> object:
            return lambda tx: store.insert_event(tx.conn, make_event(n), Colour.GREEN, [], "{}")

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futs: list[concurrent.futures.Future[int]] = list(
                pool.map(lambda n: w.submit(job(n)), range(200))  # type: ignore[arg-type]
            )
            seqs = [f.result(30) for f in futs]
    finally:
        w.stop()
    assert len(set(seqs)) == 200
    assert db.count_events() == 200
    assert w.batches < 200  # group commit actually grouped


def test_writer_on_a_loop_publishes_before_it_acknowledges(db: store.Store) -> None:
    """With a loop: one callback per batch publishes, then resolves the futures."""
    order: list[str] = []

    async def go() -> None:
        loop = asyncio.get_running_loop()

        def on_committed(cs: list[Committed]) -> None:
            assert threading.current_thread() is threading.main_thread()  # on the loop
            order.extend(f"pub{c.change.seq}" for c in cs)

        w = GroupWriter(db, on_committed, loop=loop)
        w.start()
        try:

            def job(n: int) -> Callable[[Tx], int]:
                def run(tx: Tx) -> int:
                    ev = make_event(n)
                    seq = store.insert_event(
                        tx.conn, ev, Colour.GREEN, [], change_payload(ev, Colour.GREEN, [])
                    )
                    ch = EventChanged(seq=seq, event=ev, colour=Colour.GREEN)
                    tx.published.append(Committed(ch, encode(ch), ""))
                    return seq

                return run

            def fails(tx: Tx) -> int:
                raise ValueError("bad job")

            async def one(f: Callable[[Tx], int]) -> None:
                try:
                    seq = await asyncio.wait_for(w.submit_async(f), 10)
                except ValueError:
                    order.append("failed")
                else:
                    order.append(f"ack{seq}")

            await asyncio.gather(one(job(1)), one(fails), one(job(2)))
            await one(fails)  # a batch of one failing job
        finally:
            await asyncio.to_thread(w.stop)

    asyncio.run(asyncio.wait_for(go(), 30))
    assert order.count("failed") == 2
    acks = [o for o in order if o.startswith("ack")]
    assert len(acks) == 2
    for ack in acks:  # each change was published before its job was acknowledged
        assert order.index("pub" + ack[3:]) < order.index(ack)
    assert db.count_events() == 2


def test_sqlite_checkpoints_run_outside_commits(tmp_path: Path) -> None:
    s = store.Store(f"sqlite:///{tmp_path / 'hall.db'}")
    s.open()
    wal = tmp_path / "hall.db-wal"
    try:
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        for i in range(50):
            insert(s, make_event(i))
        runs = s.checkpoints()
        deadline = time.monotonic() + 10
        while s.checkpoints() == runs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert s.checkpoints() > runs  # the checkpoint thread runs by itself
    finally:
        s.close()
    assert not wal.exists() or wal.stat().st_size == 0  # a last checkpoint on close
    s2 = store.Store(f"sqlite:///{tmp_path / 'hall.db'}")
    s2.open()
    try:
        assert s2.count_events() == 50
    finally:
        s2.close()


def sqlite_memory_used() -> int:
    """Bytes the process's SQLite library holds now (page caches included)."""
    import _sqlite3
    import ctypes

    fn = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used  # the module's libsqlite3
    fn.restype = ctypes.c_int64
    return int(fn())


def test_sqlite_page_caches_are_bounded_across_the_pool(tmp_path: Path) -> None:
    """Every pooled connection busy at once over a file far bigger than the caches: what
    SQLite then holds stays within the pool's connections times their cache (it was
    ~2.1 MB per connection, 17 MB for the pool, growing in steps at the soak's calls)."""
    s = store.Store(f"sqlite:///{tmp_path / 'hall.db'}")
    s.open()
    try:
        with s.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)")
            for _ in range(40):  # 40 MB
                conn.exec_driver_sql(
                    "INSERT INTO filler (body) SELECT randomblob(4000) FROM "
                    "(WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n "
                    "WHERE k < 250) SELECT k FROM n)"
                )
        before = sqlite_memory_used()
        together = threading.Barrier(store.POOL_SIZE)

        def scan(k: int) -> int:
            with s.engine.connect() as conn:
                together.wait(10)  # all of the pool's connections out at once
                n = conn.exec_driver_sql(
                    "SELECT count(*) FROM filler WHERE length(body) > ?", (k,)
                ).scalar()
                together.wait(10)
                return int(n or 0)

        with concurrent.futures.ThreadPoolExecutor(store.POOL_SIZE) as pool:
            counts = list(pool.map(scan, range(store.POOL_SIZE)))
        held = sqlite_memory_used() - before
    finally:
        s.close()
    assert counts == [10_000] * store.POOL_SIZE
    per_connection = store.SQLITE_CACHE_KIB * 1024 * 1.15  # the cache and its headers
    assert held > store.POOL_SIZE * per_connection / 2, held  # the caches were filled
    assert held <= store.POOL_SIZE * per_connection, held
