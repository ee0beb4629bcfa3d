"""The site configuration: the demo site loads; bad files get errors naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.domain.site import (
    SiteConfigError,
    demo_site_path,
    load_site,
    redact_url,
    with_credentials,
)


def test_demo_site_has_the_county_tree() -> None:
    site = load_site(demo_site_path())
    assert len(site.townships) >= 3
    assert len(site.villages) >= 8
    assert site.grids and site.cameras
    cam = site.camera("cam1")
    assert cam.sub.width == 704 and cam.main.width == 1280
    assert site.township_name(cam.township) == "城关镇"


def test_credentials_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALL_CAMSIM_PASSWORD", "pa:ss/word")
    site = load_site(demo_site_path())
    url = site.authed_url(site.camera("cam2"), "sub")
    assert url == "rtsp://admin:pa%3Ass%2Fword@127.0.0.1:8602/cam2/sub"
    assert "pa:ss" not in repr(site) and "pa%3A" not in repr(site)
    assert redact_url(url) == "rtsp://127.0.0.1:8602/cam2/sub"


def test_with_credentials_keeps_path_and_port() -> None:
    assert with_credentials("rtsp://h:554/a/b?x=1", "u", "p") == "rtsp://u:p@h:554/a/b?x=1"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "site.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_unknown_field_is_named_with_the_file(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        'name = "x"\n[[townships]]\nid = "t1"\nname = "镇"\ncolour = "red"\n',
    )
    with pytest.raises(SiteConfigError) as err:
        load_site(p)
    text = str(err.value)
    assert str(p) in text
    assert "townships.0.colour" in text


def test_bad_reference_is_named(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        'name = "x"\n[[townships]]\nid = "t1"\nname = "镇"\n'
        '[[villages]]\nid = "v1"\nname = "村"\ntownship = "t9"\n',
    )
    with pytest.raises(SiteConfigError, match=r"villages\.v1\.township: unknown township 't9'"):
        load_site(p)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SiteConfigError, match="not valid TOML"):
        load_site(_write(tmp_path, "name = \n"))
    with pytest.raises(SiteConfigError, match="cannot read site file"):
        load_site(tmp_path / "nope.toml")


def test_bad_url_scheme_is_named(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        'name = "x"\n[[townships]]\nid = "t1"\nname = "镇"\n'
        '[[cameras]]\nid = "c1"\nname = "摄像机"\ntownship = "t1"\nlon = 1.0\nlat = 2.0\n'
        'main = { url = "http://h/main", width = 1280, height = 720 }\n'
        'sub = { url = "rtsp://h/sub", width = 704, height = 576 }\n',
    )
    with pytest.raises(SiteConfigError, match=r"cameras\.0\.main\.url"):
        load_site(p)


def test_map_keys_name_the_tile_package_and_its_datum(tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    assert site.map.datum == "gcj02"
    package = site.map.tiles_path(demo_site_path())
    assert package is not None and package.is_file() and package.suffix == ".mbtiles"
    f = tmp_path / "s.toml"
    f.write_text('name = "县"\n[[townships]]\nid = "t"\nname = "镇"\n', encoding="utf-8")
    plain = load_site(f)
    assert plain.map.tiles is None and plain.map.datum == "wgs84"
    assert plain.map.tiles_path(f) is None


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ('datum = "bd09"', "map.datum"),
        ('tile = "x.mbtiles"', "map.tile"),
        ('tiles = ""', "map.tiles"),
    ],
)
def test_bad_map_keys_are_refused_naming_the_field(tmp_path: Path, table: str, field: str) -> None:
    f = tmp_path / "s.toml"
    f.write_text(
        f'name = "县"\n[map]\n{table}\n[[townships]]\nid = "t"\nname = "镇"\n', encoding="utf-8"
    )
    with pytest.raises(SiteConfigError, match=field.replace(".", r"\.")):
        load_site(f)
