"""The test kit as one pytest plugin: tests/conftest.py registers this module only."""

from __future__ import annotations

pytest_plugins = [
    "tests.kit.home",
    "tests.kit.qt",
    "tests.kit.hub",
    "tests.kit.camsim",
    "tests.kit.guard",
    "tests.kit.markers",
    "tests.kit.netns",
    "tests.kit.janus",
    "tests.kit.netns_turn",
    "tests.kit.turn",
    "tests.kit.disk",
    "tests.kit.pgcluster",
    "tests.kit.xvfb",
]
