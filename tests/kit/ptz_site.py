"""A site for PTZ tests: the demo site with its cam1 made a PTZ camera (`onvif`)."""

from __future__ import annotations

from pathlib import Path

from dispatch.domain.site import demo_site_path

CAM1_MAIN = 'main = { url = "rtsp://127.0.0.1:8601/cam1/main"'


def ptz_site(folder: Path, onvif_url: str = "http://127.0.0.1:8701/onvif/device_service") -> Path:
    """Write the demo site with cam1's ONVIF URL into `folder`; its path."""
    text = demo_site_path().read_text(encoding="utf-8")
    if CAM1_MAIN not in text:
        raise AssertionError("the demo site's cam1 changed: update tests/kit/ptz_site.py")
    text = text.replace(CAM1_MAIN, f'onvif = "{onvif_url}"\n{CAM1_MAIN}', 1)
    path = folder / "ptz-site.toml"
    path.write_text(text, encoding="utf-8")
    return path
