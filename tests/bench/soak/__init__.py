"""The soak: the whole system for M minutes under a steady load, sampled each minute.

Run it (a benchmark, not a timed test; the 60-minute run wants a quiet machine)::

    .venv/bin/python -m tests.bench.soak --minutes 60 --json --chart artifacts/soak.png
    .venv/bin/python -m tests.bench.soak --minutes 60 --json --db postgresql   # needs
        # HALL_TEST_PG_URL: eval "$(bash scripts/pg.sh start)"; the soak makes and drops
        # a database of its own in that cluster

What runs (each a real part): `hall-camsim` (4 cameras), a `hall-hub` on a SQLite file
(or PostgreSQL) with a site of 16 cameras and 200 grid leaders (not `--demo`: its
operators and intake key are added as an operator would), and `hall-console` in a
real window under its own Xvfb with a 16-tile wall, logged in, with its stats probe
(`console.shell.stats_probe`, asked for by `HALL_STATS_FILE`). This process drives:

- intake: 5 events/s over HTTPS with an API key (`soak.flow.Intake`), open loop;
  an event whose POST failed is posted again (same `source_ref`) until acknowledged;
- the workflow on every acknowledged event, as a supervisor's console client
  (`HubClient`): register → route → dispatch to a grid leader → start handling; the
  phone accepts, arrives and gives feedback; confirm → feedback → archive
  (`soak.flow.Workflow`);
- 200 phone sessions speaking the phone page's own protocol (PIN login, the page's
  WebSocket with `ack`, the page's JSON actions), each disconnecting and reconnecting
  every 20–60 s (`soak.phones`);
- a camera killed and revived (`CamSim.kill` / `revive`) every 2 minutes;
- a mediation call every 10 minutes (from minute 1): the console's aiortc peer and two
  aiortc parties logged in with their PINs, 60 s of media, then closed (`soak.call`);
  each call is about an event of its own, which the workflow then takes through to
  archived like the intake's (`call_cases`, `call_cases_archived` in the JSON; the
  intake's counts leave them out);
- the hub stopped and started again once, halfway.

Each minute it samples the console's and the hub's RSS, descriptors and threads
(/proc), `sys.getrefcount(None)` in the console, the wall's painted fps, the p95 age of
the pictures read back from the screen's pixels (the frame stamp), the p99 of intake
POST → `EventChanged` at the workflow client, and the database (and WAL) size, and
prints a row. At the end: the slope per hour of each (least squares over the samples
after `--warmup-minutes`, 10; all samples if fewer than two are left; the hub's with an
intercept per process life, as it is restarted, and its RSS after the warm-up of each
life, since the restarted hub is a new process with a start-up of its own:
`rss_mb_per_hour_hub_from_run_warmup` is the same fitted from the run's minute 10), a
chart (`--chart`, matplotlib), and one JSON line: `minutes`, `rss_mb_per_hour_console`,
`rss_mb_per_hour_hub`, `fds_end_minus_start`, `threads_end_minus_start` (the largest
growth of console, decode processes and hub, each summed over its process lives;
growth is the highest of the last four samples minus the highest of the first four, so
that the camera kill cycle is not counted), `none_refs_per_hour`, `latency_p95_drift_ms` (the fitted
change over the run), `events_lost` (acknowledged by intake, absent from the store at
the end), `events_duplicated` (extra rows for one `source_ref`, or a second 201 for
it), `tasks_lost` (acknowledged by a dispatch reply, absent from the store), with the
counts and the per-minute samples beside them.

Targets of a 60-minute run (issue 16): memory ≤ 5 MB/h per process after the first
10 minutes, no growth of descriptors or threads, `None` refs flat, latency drift
≤ 10 ms, nothing lost or duplicated. A 3-minute run is an integration test
(tests/integration/bench/test_soak.py).

To see where a hub's Python memory goes, start it with `HALL_TRACEMALLOC_FILE=PATH`
(`dispatch.hub.memtrace`: tracemalloc snapshots to `PATH.<n>.snap` every
`HALL_TRACEMALLOC_EVERY_S`, 60, and on SIGUSR2; slow, a diagnosis only) and compare two
with `Snapshot.compare_to(..., "traceback")`. For the console, `HALL_STATS_TYPES=PATH`
in the soak's environment makes its probe append the count of live objects per type
to PATH every minute (`console.shell.stats_probe.type_counts`).
"""
