"""The camera patrol scheduled by the hub itself (`hall-hub --patrol-every SECONDS`).

The targets come from the hub's validated site (`site_targets`: `streams` gets plain
URLs and ids, it never reads a `Site`). `streams.patrol.runner.Patrol` runs its rounds
in a thread of its own (probing blocks on RTSP sockets, diagnosis on numpy); each
round's checks are handed to the event loop with `run_coroutine_threadsafe` and go
through `PatrolService.submit`, the same path as a batch posted to `POST /api/v1/camera_checks`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from dispatch.domain.relay import relay_for, stream_url
from dispatch.domain.site import Site
from dispatch.patrol.messages import SubmitReply
from dispatch.patrol.service import PatrolService
from streams.patrol.relayed import UpstreamOf, probe_url
from streams.patrol.runner import Patrol, PatrolTarget
from streams.patrol.types import CameraCheck
from streams.quality.diagnosis import load_thresholds

log = logging.getLogger(__name__)

SUBMIT_TIMEOUT_S = 120.0


def site_targets(site: Site, stream: Literal["main", "sub"] = "sub") -> list[PatrolTarget]:
    """The site's cameras on their sub stream (or `main`), credentials in the URL; through
    the camera's relay when the site names one (`dispatch.domain.relay.stream_url`), marked
    as a patrol probe there (`?patrol=1`: the relay holds the upstream only briefly)."""
    targets = []
    for cam in site.cameras:
        relay = relay_for(site, cam)
        url = stream_url(site, cam, stream)
        if relay is None:
            targets.append(PatrolTarget(cam.id, url))
        else:
            targets.append(PatrolTarget(cam.id, probe_url(url), relay.id))
    return targets


class HubPatrol:
    """Rounds every `interval_s` over `targets`; `start`/`stop` are safe to call twice."""

    def __init__(
        self,
        service: PatrolService,
        targets: Sequence[PatrolTarget],
        *,
        interval_s: float,
        clock: Callable[[], datetime],
        snapshot_dir: Path | None = None,
        concurrency: int = 8,
        relay_concurrency: int = 32,
        upstream_of: UpstreamOf | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"patrol interval must be positive, got {interval_s}")
        self.service = service
        self.targets = list(targets)
        self.interval_s = interval_s
        self.clock = clock
        self.snapshot_dir = snapshot_dir
        self.concurrency = concurrency
        self.relay_concurrency = relay_concurrency
        self.upstream_of = upstream_of
        self.replies: list[SubmitReply] = []
        self._patrol: Patrol | None = None

    @property
    def rounds(self) -> int:
        return 0 if self._patrol is None else self._patrol.rounds

    async def start(self) -> None:
        if self._patrol is not None:
            return
        loop = asyncio.get_running_loop()
        thresholds = await asyncio.to_thread(load_thresholds)

        def sink(checks: list[CameraCheck]) -> SubmitReply:
            fut = asyncio.run_coroutine_threadsafe(self.service.submit(list(checks)), loop)
            reply = fut.result(timeout=SUBMIT_TIMEOUT_S)
            self.replies = [*self.replies[-9:], reply]
            return reply

        def on_error(exc: Exception) -> None:
            log.warning("patrol round failed: %s", exc)

        patrol = Patrol(
            self.targets,
            sink,
            interval_s=self.interval_s,
            clock=self.clock,
            thresholds=thresholds,
            snapshot_dir=self.snapshot_dir,
            concurrency=self.concurrency,
            relay_concurrency=self.relay_concurrency,
            upstream_of=self.upstream_of,
            on_error=on_error,
        )
        if patrol.round_interval_s > self.interval_s:
            log.warning(
                "patrol: %d cameras take about %.0f s a round at %d probes per relay "
                "(%d direct); rounds start every %.0f s, not %.0f",
                len(self.targets),
                patrol.round_interval_s,
                self.relay_concurrency,
                self.concurrency,
                patrol.round_interval_s,
                self.interval_s,
            )
        self._patrol = patrol
        patrol.start()

    async def stop(self) -> None:
        patrol, self._patrol = self._patrol, None
        if patrol is not None:
            # the thread may be waiting for the loop (its sink): join off the loop
            await asyncio.to_thread(patrol.stop)
