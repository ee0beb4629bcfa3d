"""A site with townships and villages whose civil codes match `county_channels`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dispatch.domain.site import Site, demo_site_path, parse_site


def platform_site(url: str, townships: int = 5, villages: int = 4, **platform: Any) -> Site:
    towns = [{"id": f"t{t + 1}", "name": f"乡镇{t + 1}"} for t in range(townships)]
    vills = [
        {"id": f"t{t + 1}v{v + 1}", "name": f"村{t + 1}-{v + 1}", "township": f"t{t + 1}"}
        for t in range(townships)
        for v in range(villages)
    ]
    codes: list[dict[str, Any]] = [
        {"prefix": f"330521{t + 1:03d}", "township": f"t{t + 1}"} for t in range(townships)
    ]
    codes += [
        {
            "prefix": f"330521{t + 1:03d}{v + 1:03d}",
            "township": f"t{t + 1}",
            "village": f"t{t + 1}v{v + 1}",
        }
        for t in range(townships - 1)  # the last township's villages: by township prefix only
        for v in range(villages)
    ]
    data: dict[str, Any] = {
        "name": "测试县综治中心",
        "credentials": {"wvp": {"username": "admin", "password": "wvp-test"}},
        "townships": towns,
        "villages": vills,
        "platforms": [
            {"id": "gaw", "url": url, "credentials": "wvp", "civil_codes": codes, **platform}
        ],
    }
    return parse_site(data, "<platform test site>")


def with_platform_toml(text: str, url: str, prefix: str, township: str, village: str) -> str:
    """A site file's text plus the platform "gaw" at `url` whose civil-code `prefix` places
    channels in `township`/`village` (`county_channels(n, 1, 1)` use 330521001001)."""
    return (
        text
        + f"""
[credentials.wvp]
username = "admin"
password = "wvp-test"

[[platforms]]
id = "gaw"
url = "{url}"
credentials = "wvp"
refresh_s = 10
civil_codes = [{{ prefix = "{prefix}", township = "{township}", village = "{village}" }}]
"""
    )


def demo_with_platform(folder: Path, url: str) -> Path:
    """The demo site plus a platform whose civil codes place `county_channels(n, 3, 3)`."""
    text = demo_site_path().read_text(encoding="utf-8")
    text += f'''

[credentials.wvp]
username = "admin"
password = "wvp-test"

[[platforms]]
id = "gaw"
url = "{url}"
credentials = "wvp"
refresh_s = 10
civil_codes = [
  {{ prefix = "330521001", township = "t01" }},
  {{ prefix = "330521001001", township = "t01", village = "v01" }},
  {{ prefix = "330521002", township = "t02" }},
  {{ prefix = "330521003", township = "t03" }},
]
'''
    path = folder / "platform-site.toml"
    path.write_text(text, encoding="utf-8")
    return path
