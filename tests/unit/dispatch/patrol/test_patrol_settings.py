"""Patrol settings file: defaults, and clear errors for bad files (nothing half-loaded)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dispatch.domain.site import demo_site_path, load_site
from dispatch.patrol.service import (
    PatrolConfigError,
    PatrolSettings,
    check_maintenance,
    load_settings,
)


def test_shipped_file_loads() -> None:
    s = load_settings()
    assert s.policy.raise_after == timedelta(minutes=10)
    assert s.maintenance == "maint"
    check_maintenance(s, load_site(demo_site_path()))


def test_another_file(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text("raise_after_minutes = 2.5\nrecover_after_minutes = 1\n", encoding="utf-8")
    s = load_settings(f)
    assert s.policy.raise_after == timedelta(minutes=2.5)
    assert s.policy.recover_after == timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("raise_after_minutes = -1", "raise_after_minutes"),
        ("raise_after = 5", "raise_after"),  # unknown field
        ('maintenance = "a b"', "maintenance"),
        ("raise_after_minutes = ", "not valid TOML"),
        ('raise_after_minutes = "ten"', "raise_after_minutes"),
    ],
)
def test_bad_files_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "p.toml"
    f.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(PatrolConfigError, match=message) as err:
        load_settings(f)
    assert str(f) in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PatrolConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.toml")


def test_maintenance_must_be_a_person_of_the_site() -> None:
    with pytest.raises(PatrolConfigError, match="'nobody' is not a person"):
        check_maintenance(PatrolSettings(maintenance="nobody"), load_site(demo_site_path()))
    check_maintenance(PatrolSettings(maintenance="nobody"), None)  # no site: nothing to check


def test_a_site_without_cameras_needs_no_maintenance_unit() -> None:
    site = load_site(demo_site_path())
    no_cameras = site.model_copy(update={"cameras": [], "people": []})
    check_maintenance(PatrolSettings(maintenance="maint"), no_cameras)  # nothing to patrol
    with pytest.raises(PatrolConfigError, match="maintenance 'maint'"):
        check_maintenance(
            PatrolSettings(maintenance="maint"), site.model_copy(update={"people": []})
        )
