"""Where the console keeps its files: the config dir (HALL_CONFIG_DIR overrides) and evidence."""

from __future__ import annotations

import os
from pathlib import Path


def config_dir() -> Path:
    """The console's config folder; `HALL_CONFIG_DIR` overrides (tests use a tmp dir)."""
    env = os.environ.get("HALL_CONFIG_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "command-hall"


def evidence_dir(override: str | Path | None = None) -> Path:
    """The evidence folder: the override, else `HALL_EVIDENCE_DIR`, else `<config>/evidence`."""
    if override is not None:
        return Path(override)
    env = os.environ.get("HALL_EVIDENCE_DIR")
    if env:
        return Path(env)
    return config_dir() / "evidence"
