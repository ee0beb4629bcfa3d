"""The site file read at start: parsed once, then its data read from the cache and validated."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from console.shell import sitecache
from console.shell.sitecache import load_site_cached
from dispatch.domain.site import SiteConfigError, demo_site_path, load_site


def test_second_start_reads_the_cache_not_the_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_bytes(demo_site_path().read_bytes())
    cache = tmp_path / "cache"
    first = load_site_cached(site_file, cache)
    assert first == load_site(site_file)
    [cached] = cache.glob("site-*.json")
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700

    def no_toml(_text: str) -> object:
        raise AssertionError("parsed the TOML again")

    monkeypatch.setattr(sitecache.tomllib, "loads", no_toml)
    assert load_site_cached(site_file, cache) == first
    monkeypatch.undo()
    # a changed file is a new key: parsed, and its errors reported as load_site does
    site_file.write_text(
        site_file.read_text(encoding="utf-8").replace("lon = 112.5420", "lon = 512.5420", 1),
        encoding="utf-8",
    )
    with pytest.raises(SiteConfigError, match=r"cameras\.0\.lon") as bad:
        load_site_cached(site_file, cache)
    assert str(site_file) in str(bad.value)


def test_unreadable_or_not_toml(tmp_path: Path) -> None:
    with pytest.raises(SiteConfigError, match="cannot read site file"):
        load_site_cached(tmp_path / "none.toml", tmp_path / "cache")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ", encoding="utf-8")
    with pytest.raises(SiteConfigError, match="not valid TOML"):
        load_site_cached(broken, tmp_path / "cache")


def test_a_damaged_cache_is_ignored_and_only_a_few_are_kept(tmp_path: Path) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_bytes(demo_site_path().read_bytes())
    cache = tmp_path / "cache"
    load_site_cached(site_file, cache)
    [cached] = cache.glob("site-*.json")
    cached.write_text("{not json", encoding="utf-8")
    assert load_site_cached(site_file, cache) == load_site(site_file)
    for i in range(6):
        site_file.write_bytes(demo_site_path().read_bytes() + f"\n# {i}\n".encode())
        load_site_cached(site_file, cache)
    assert len(list(cache.glob("site-*.json"))) == sitecache.KEEP
