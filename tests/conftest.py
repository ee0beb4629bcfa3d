"""Test-wide settings: Qt offscreen unless a test starts its own Xvfb; the test kit."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HALL_LANG", "zh_CN")

pytest_plugins = ["tests.kit.plugin"]
