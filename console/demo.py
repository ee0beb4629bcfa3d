"""Background services for `hall-console --demo`: the camera simulator for the demo site.

The lead adds the hub and the report generator here. `start()` and `stop()` are
idempotent; nothing runs until `start()`.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

from dispatch.site import Site

if TYPE_CHECKING:
    from streams.simulator import CamSim

PASSWORD_ENV = "HALL_CAMSIM_PASSWORD"
DEMO_USER = "admin"


class DemoServices:
    def __init__(self, site: Site) -> None:
        self.site = site
        self._camsim: CamSim | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        if self._camsim is not None:
            return
        from streams.simulator import CamSim

        # the demo site's credentials refer to this variable: set it before any URL is built
        password = os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(12)
        os.environ[PASSWORD_ENV] = password
        sim = CamSim(site=self.site, auth=(DEMO_USER, password))
        sim.start(timeout_s)
        self._camsim = sim

    def stop(self) -> None:
        sim, self._camsim = self._camsim, None
        if sim is not None:
            sim.stop()

    @property
    def running(self) -> bool:
        return self._camsim is not None
