"""Qt for the tests: the one `qapp` fixture, and garbage collection on the main thread.

Qt runs offscreen unless a test starts its own Xvfb (set in tests/conftest.py). PySide6
is imported only by tests that ask for `qapp` (or import Qt themselves).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication


@pytest.fixture(scope="session")
def qapp() -> QApplication:
    """The process's QApplication (made on first use, never destroyed)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    return app


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported lives until the end: move it out of the collector's reach
    (gc.freeze), so that the collection after each test scans only what tests made (a full
    scan of every imported module's objects took ~0.25 s of CPU per test)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """After a test that used Qt, collect its garbage here, on the main thread.

    Otherwise a later test's worker thread may run the cyclic collector, destroying
    leftover Qt objects in the wrong thread (segfaults seen in CI; see console/kit/gcguard.py).
    """
    yield
    if "PySide6.QtCore" in sys.modules:
        gc.collect()
