"""The camera health patrol: sample every camera of the site, diagnose, report to the hub.

One round (`patrol_round`) probes every target with bounded concurrency (a thread
pool; PyAV releases the GIL while it waits and decodes), key frames only, then closes
the connection; each sample becomes a typed `CameraCheck` (online or offline with the
reason; the faults found by `streams.quality.diagnosis` with their scores; the path of the
picture it saw). `Patrol` runs rounds on a schedule in a thread of its own and posts
each round to the hub (`HubSink`: `POST /api/v1/camera_checks` with an API key).

The hub builds the targets from its validated site (`dispatch.patrol.runner`);
`python -m streams.patrol.runner --site FILE --hub URL --api-key KEY [--once]` runs a
patrol on another machine; it reads just the site's cameras and relays
(`streams.patrol.sites`: `streams` never imports `dispatch`) and probes through the
relays as the hub does (`--direct`: every camera itself).
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import cv2

from streams.ingest.sources import CameraSource, SourcesError
from streams.patrol import relayed
from streams.patrol.probe import Probe, probe
from streams.patrol.reference import Reference, plan, reference_of, unconfirmed
from streams.patrol.relayed import DIRECT, UpstreamOf, explain, implied_interval
from streams.patrol.types import CameraCheck, CheckBatch, OfflineReason
from streams.private import default_state_dir, private_file
from streams.quality.diagnosis import QualityThresholds, diagnose, load_thresholds


@dataclass(frozen=True, slots=True)
class PatrolTarget:
    camera: str
    url: str
    via: str = DIRECT  # the relay the probe goes through ("" = the camera itself)


CHINA_TZ = timezone(timedelta(hours=8), "CST")  # the hub's clock zone (china_now)


def china_now() -> datetime:
    return datetime.now(UTC).astimezone(CHINA_TZ)


def source_targets(cameras: Sequence[CameraSource]) -> list[PatrolTarget]:
    """The cameras on their sub stream, credentials in the URL."""
    return [PatrolTarget(cam.id, cam.authed_url("sub")) for cam in cameras]


def snapshot_path(folder: Path, camera: str, at: datetime) -> Path:
    return folder / camera / f"{at.strftime('%Y%m%d-%H%M%S')}.jpg"


def to_check(
    target: PatrolTarget,
    result: Probe,
    at: datetime,
    thresholds: QualityThresholds,
    snapshot_dir: Path | None,
) -> CameraCheck:
    """A probe's result as a check: diagnosis of its pictures, the newest one saved."""
    if not result.online:
        return CameraCheck(
            camera=target.camera,
            at=at,
            online=False,
            reason=result.reason,
            detail=result.detail[:500],
            seconds=result.seconds,
        )
    d = diagnose(result.frames, thresholds)
    snap = ""
    if snapshot_dir is not None:
        path = snapshot_path(snapshot_dir, target.camera, at)
        private_file(path)
        if cv2.imwrite(str(path), result.frames[-1], [cv2.IMWRITE_JPEG_QUALITY, 80]):
            snap = str(path)
    return CameraCheck(
        camera=target.camera,
        at=at,
        online=True,
        faults={f.fault.value: round(f.score, 3) for f in d.findings if f.detected},
        scores={f.fault.value: round(f.score, 3) for f in d.findings if f.value is not None},
        snapshot=snap,
        seconds=result.seconds,
    )


def check_one(
    target: PatrolTarget,
    *,
    clock: Callable[[], datetime],
    thresholds: QualityThresholds,
    snapshot_dir: Path | None,
    keyframes: int = 2,
    min_gap_s: float = 1.0,
    open_timeout_s: float = 3.0,
    references: MutableMapping[str, Reference] | None = None,
) -> CameraCheck:
    """One camera sampled and judged. With `references` (the cameras' pictures of the
    round before, updated here): one key frame when it differs from the camera's last
    picture, two when it looks the same or there is none (`reference.plan`); without:
    `keyframes` key frames."""
    at = clock()
    ref = None if references is None else references.get(target.camera)
    most, enough = plan(ref, thresholds, keyframes)
    result = probe(
        target.url,
        keyframes=most,
        min_gap_s=min_gap_s,
        open_timeout_s=open_timeout_s,
        enough=enough,
    )
    if references is not None and result.frames:
        references[target.camera] = reference_of(result.frames[-1], thresholds)
    check = to_check(target, result, at, thresholds, snapshot_dir)
    if unconfirmed(ref, result.frames, thresholds) and not check.faults:
        # like last round's picture, and the second look did not come in time: neither
        # frozen nor not (a fault found on the one picture stands: black, covered, ...)
        why = f"picture like the last round's; no second key frame within {result.seconds:.1f} s"
        return relayed.not_checked(check, why)
    return check


def patrol_round(
    targets: Sequence[PatrolTarget],
    *,
    clock: Callable[[], datetime],
    thresholds: QualityThresholds,
    snapshot_dir: Path | None = None,
    concurrency: int = 12,
    relay_concurrency: int | None = None,
    upstream_of: UpstreamOf | None = None,
    keyframes: int = 2,
    min_gap_s: float = 1.0,
    stop: threading.Event | None = None,
    retry: bool = True,
    references: MutableMapping[str, Reference] | None = None,
) -> list[CameraCheck]:
    """Sample every target once; checks in target order.

    Cameras probed directly go at most `concurrency` at a time; those through a relay at
    most `relay_concurrency` (default `concurrency`) at a time per relay, every relay and
    the direct cameras at once. An offline camera behind a relay takes its reason from
    the relay's state of it (`upstream_of`, `relayed.explain`, asked after the group's
    pass); a probe through a relay waits `RELAY_OPEN_TIMEOUT_S` to open. With `retry`, a camera
    that timed out (or gave no key frame, or an unexpected error) is probed once more
    after its group's pass, and that second sample is its check. Through a relay, a camera
    is offline only on the relay's word on it; a probe that got no picture for causes not
    the camera's (the relay or this host starved, the relay down or silent) is 未巡检
    (`relayed.explain`), never a fault. `references`: see `check_one`."""
    per_relay = concurrency if relay_concurrency is None else relay_concurrency
    if concurrency < 1 or per_relay < 1:
        raise ValueError(f"patrol: concurrency must be at least 1, got {concurrency}/{per_relay}")

    def one(t: PatrolTarget) -> CameraCheck | None:
        if stop is not None and stop.is_set():
            return None
        return check_one(
            t,
            clock=clock,
            thresholds=thresholds,
            snapshot_dir=snapshot_dir,
            keyframes=keyframes,
            min_gap_s=min_gap_s,
            open_timeout_s=OPEN_TIMEOUT_S if t.via == DIRECT else RELAY_OPEN_TIMEOUT_S,
            references=references,
        )

    def explained(t: PatrolTarget, check: CameraCheck | None) -> CameraCheck | None:
        # asked after the group's pass: the relay's report of a failure has arrived by then
        if check is None or check.online or t.via == DIRECT or upstream_of is None:
            return check
        return explain(check, upstream_of(t.via, t.camera))

    def group(indices: list[int], width: int) -> list[tuple[int, CameraCheck | None]]:
        mine = [targets[i] for i in indices]
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="patrol") as pool:
            results = list(pool.map(one, mine))
            if retry:
                # a second look, after the pass, at cameras that did not answer in time: a
                # busy network or host is no fault (a hung or unreachable camera fails twice)
                again = [k for k, r in enumerate(results) if r is not None and retry_worth(r)]
                for k, r in zip(again, pool.map(one, [mine[k] for k in again]), strict=True):
                    if r is not None:
                        results[k] = r
        return [(i, explained(targets[i], r)) for i, r in zip(indices, results, strict=True)]

    groups: dict[str, list[int]] = {}
    for i, t in enumerate(targets):
        groups.setdefault(t.via, []).append(i)
    out: list[CameraCheck | None] = [None] * len(targets)
    if not groups:
        return []
    with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="patrol-group") as outer:
        futures = [
            outer.submit(group, idx, concurrency if via == DIRECT else per_relay)
            for via, idx in groups.items()
        ]
        for fut in futures:
            for i, r in fut.result():
                out[i] = r
    return [r for r in out if r is not None]


OPEN_TIMEOUT_S = 3.0  # a camera's own answer
RELAY_OPEN_TIMEOUT_S = 8.0  # a relay answers once its upstream is live, or 503 after its
# own open timeout (5 s): the probe waits longer than that, to hear the relay's answer

RETRIED = frozenset({OfflineReason.TIMEOUT, OfflineReason.NO_KEYFRAME, OfflineReason.ERROR})
"""Offline reasons a second probe may clear (refused, auth, not found, no video are the
camera's own answer: not retried)."""


def retry_worth(check: CameraCheck) -> bool:
    return not check.online and check.reason in RETRIED


BATCH = 1000  # checks per POST (a body may hold 5,000)


class HubSinkError(RuntimeError):
    """The hub refused or did not answer a batch of checks; the message says why."""


@dataclass(frozen=True, slots=True)
class HubSink:
    """Posts check batches to the hub's HTTP API."""

    http_url: str
    api_key: str
    timeout_s: float = 30.0
    ssl_context: ssl.SSLContext | None = None  # trusts the hub's CA (None: the system's)

    def post(self, checks: Sequence[CameraCheck]) -> dict[str, object]:
        """Every check, in batches of at most `BATCH` (the hub's limit); the last reply."""
        reply: dict[str, object] = {}
        for i in range(0, len(checks), BATCH):
            reply = self._post(checks[i : i + BATCH])
        return reply

    def _post(self, checks: Sequence[CameraCheck]) -> dict[str, object]:
        body = CheckBatch(checks=list(checks)).model_dump_json().encode("utf-8")
        req = urllib.request.Request(
            f"{self.http_url.rstrip('/')}/api/v1/camera_checks",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-Api-Key": self.api_key},
        )
        try:
            with urllib.request.urlopen(
                req, timeout=self.timeout_s, context=self.ssl_context
            ) as resp:
                reply: dict[str, object] = json.loads(resp.read())
                return reply
        except urllib.error.HTTPError as exc:
            with exc:
                text = exc.read().decode("utf-8", "replace")[:500]
            raise HubSinkError(
                f"hub refused {len(checks)} checks: HTTP {exc.code} {text}"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise HubSinkError(f"hub unreachable at {self.http_url}: {exc}") from None


class Patrol:
    """Rounds on a schedule in a thread; each round's checks go to `sink`. No I/O here."""

    def __init__(
        self,
        targets: Sequence[PatrolTarget],
        sink: Callable[[list[CameraCheck]], object],
        *,
        interval_s: float = 600.0,
        clock: Callable[[], datetime],
        thresholds: QualityThresholds | None = None,
        snapshot_dir: Path | None = None,
        concurrency: int = 12,
        relay_concurrency: int | None = None,
        upstream_of: UpstreamOf | None = None,
        on_error: Callable[[Exception], None] | None = None,
        on_round: Callable[[list[CameraCheck]], None] | None = None,
    ) -> None:
        self.targets = list(targets)
        self.relay_concurrency = relay_concurrency if relay_concurrency else concurrency
        self.upstream_of = upstream_of
        self.last_round_s = 0.0
        self.on_round = on_round
        self.sink = sink
        self.interval_s = interval_s
        self.clock = clock
        self.thresholds = thresholds
        self.snapshot_dir = snapshot_dir
        self.concurrency = concurrency
        self.on_error = on_error
        self.rounds = 0
        # each camera's picture of the round before (one key frame is then enough; at
        # most one per target: ~7.5 KB each, `streams.patrol.reference`)
        self.references: dict[str, Reference] = {}
        self.last_error: Exception | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        if self.thresholds is None:
            self.thresholds = load_thresholds()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="patrol", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(60.0)

    @property
    def round_interval_s(self) -> float:
        """The interval rounds start at: `interval_s`, or longer when the site's size
        implies a longer round at these bounds (`relayed.implied_interval`)."""
        return implied_interval(
            self.interval_s,
            (t.via for t in self.targets),
            concurrency=self.concurrency,
            relay_concurrency=self.relay_concurrency,
        )

    def run_once(self) -> list[CameraCheck]:
        thresholds = self.thresholds if self.thresholds is not None else load_thresholds()
        t0 = time.monotonic()
        checks = patrol_round(
            self.targets,
            clock=self.clock,
            thresholds=thresholds,
            snapshot_dir=self.snapshot_dir,
            concurrency=self.concurrency,
            relay_concurrency=self.relay_concurrency,
            upstream_of=self.upstream_of,
            stop=self._stop,
            references=self.references,
        )
        self.last_round_s = time.monotonic() - t0
        if checks:
            self.sink(checks)
        self.rounds += 1
        if self.on_round is not None:
            self.on_round(checks)
        return checks

    def _run(self) -> None:
        interval_s = self.round_interval_s
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                self.run_once()
            except Exception as exc:  # a round that fails is reported; the next one runs
                self.last_error = exc
                if self.on_error is not None:
                    self.on_error(exc)
            self._stop.wait(max(0.0, interval_s - (time.monotonic() - t0)))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m streams.patrol.runner", description="camera health patrol"
    )
    p.add_argument("--site", type=Path, required=True)
    p.add_argument("--hub", required=True, help="hub URL, e.g. https://127.0.0.1:8470")
    p.add_argument("--hub-ca", type=Path, help="the hub's CA certificate (PEM) to trust")
    p.add_argument("--api-key", required=True)
    p.add_argument("--interval", type=float, default=600.0, help="seconds between rounds")
    p.add_argument("--concurrency", type=int, default=12, help="direct probes at once")
    p.add_argument(
        "--relay-concurrency", type=int, default=32, help="probes at once through each relay"
    )
    p.add_argument(
        "--direct",
        action="store_true",
        help="probe every camera itself, not through the site's relays",
    )
    p.add_argument("--snapshots", type=Path, default=default_state_dir() / "patrol")
    p.add_argument("--once", action="store_true")
    args = p.parse_args(argv)
    from streams.patrol.sites import read_patrol_targets  # it imports this module

    try:
        targets = read_patrol_targets(args.site, direct=args.direct)
    except SourcesError as exc:
        print(f"patrol: {exc}", file=sys.stderr)
        return 2
    ctx = ssl.create_default_context(cafile=str(args.hub_ca)) if args.hub_ca else None
    sink = HubSink(args.hub, args.api_key, ssl_context=ctx)
    patrol = Patrol(
        targets,
        sink.post,
        interval_s=args.interval,
        clock=china_now,
        snapshot_dir=args.snapshots,
        concurrency=args.concurrency,
        relay_concurrency=args.relay_concurrency,
        on_error=lambda e: print(f"patrol: {e}", file=sys.stderr),
    )
    if args.once:
        checks = patrol.run_once()
        bad = [c for c in checks if not c.healthy]
        relays = len({t.via for t in targets} - {DIRECT})
        print(
            f"patrol: {len(checks)} cameras ({relays} relays), {len(bad)} with trouble, "
            f"{patrol.last_round_s:.1f} s"
        )
        return 0
    patrol.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        patrol.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
