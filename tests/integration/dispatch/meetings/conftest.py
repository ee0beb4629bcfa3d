"""Every test here talks to Janus from the namespaces' veth addresses: each starts with
aioice's own host addresses (`tests.kit.janus.aioice_default_hosts`, which says why)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _aioice_default_hosts(aioice_default_hosts: None) -> None:
    """Autouse wrapper of the kit's fixture."""
