"""Test-wide settings: Qt offscreen unless a test starts its own Xvfb; shared fixtures."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HALL_LANG", "zh_CN")

pytest_plugins = ["tests.plugins.camsim", "tests.plugins.hub"]


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """After a test that used Qt, collect its garbage here, on the main thread.

    Otherwise a later test's worker thread may run the cyclic collector, destroying
    leftover Qt objects in the wrong thread (segfaults seen in CI; see console/kit/gcguard.py).
    """
    yield
    if "PySide6.QtCore" in sys.modules:
        gc.collect()
