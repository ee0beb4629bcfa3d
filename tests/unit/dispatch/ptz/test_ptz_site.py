"""The site's PTZ fields: a camera's `onvif` URL, `ptz_links` checked against them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dispatch.domain.site import SiteConfigError, parse_site
from tests.kit.ptz_site import ptz_site


def site_with(tmp_path: Path, links: str) -> dict[str, object]:
    text = ptz_site(tmp_path).read_text(encoding="utf-8") + links
    return tomllib.loads(text)


def test_links_name_a_ptz_camera_and_a_known_place(tmp_path: Path) -> None:
    ok = parse_site(
        site_with(tmp_path, '\n[[ptz_links]]\nplace = "v01"\ncamera = "cam1"\npreset = "东门"\n'),
        "t",
    )
    assert ok.camera("cam1").onvif and [k.preset for k in ok.ptz_links] == ["东门"]
    with pytest.raises(SiteConfigError, match="not a PTZ camera"):
        parse_site(
            site_with(tmp_path, '\n[[ptz_links]]\nplace = "v01"\ncamera = "cam2"\npreset = "x"\n'),
            "t",
        )
    with pytest.raises(SiteConfigError, match="unknown village or grid"):
        parse_site(
            site_with(
                tmp_path, '\n[[ptz_links]]\nplace = "nowhere"\ncamera = "cam1"\npreset = "x"\n'
            ),
            "t",
        )
