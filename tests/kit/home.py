"""Every test gets its own console config folder (`HALL_CONFIG_DIR`): the wall saves
its last layout there on close, so a test that used the user's folder left its layout
(a platform camera on slot 0) to the next test's window, which then opened on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _console_config_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("HALL_CONFIG_DIR", str(tmp_path_factory.mktemp("hall-config")))
    yield
