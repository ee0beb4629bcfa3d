"""Helpers for the wall's integration tests (a simulator site, pixels, pumping); no tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QWidget

from dispatch.domain.site import Site, parse_site
from tests.kit.paths import ROOT

ARTIFACTS = ROOT / "artifacts" / "screenshots"
PLACES = ["东街十字路口", "西街农贸市场", "南关村村委会", "城关镇政府广场", "河西大桥", "青山村口"]


def camsim_site_dict(camsim: Any, *, third: bool = False) -> dict[str, object]:
    """A site whose cameras are the simulator's (no credentials), under a small county tree.

    With `third`, the cameras name their 640x360 third stream too.
    """
    cams: list[dict[str, object]] = []
    for i, cam in enumerate(camsim.camera_ids):
        cams.append(
            {
                "id": cam,
                "name": PLACES[i % len(PLACES)] + ("" if i < len(PLACES) else f"{i}"),
                "township": "t01" if i % 2 == 0 else "t02",
                "village": "v01" if i % 2 == 0 else "v02",
                "lon": 112.5 + i / 100,
                "lat": 37.8,
                "main": {"url": camsim.url(cam, "main"), "width": 1280, "height": 720},
                "sub": {"url": camsim.url(cam, "sub"), "width": 704, "height": 576},
            }
        )
        if third:
            cams[-1]["third"] = {"url": camsim.url(cam, "third"), "width": 640, "height": 360}
    return {
        "name": "测试县综治中心",
        "townships": [{"id": "t01", "name": "城关镇"}, {"id": "t02", "name": "河西乡"}],
        "villages": [
            {"id": "v01", "name": "东街社区", "township": "t01"},
            {"id": "v02", "name": "河西村", "township": "t02"},
        ],
        "cameras": cams,
    }


def camsim_site(camsim: Any, *, third: bool = False) -> Site:
    return parse_site(camsim_site_dict(camsim, third=third), "camsim")


def site_toml(site: dict[str, object]) -> str:
    """The site dict as TOML (enough for the shapes used here)."""

    def val(v: object) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        return str(v)

    out = [f"name = {val(site['name'])}", ""]
    for table in ("townships", "villages", "cameras", "people"):
        rows = site.get(table, [])
        assert isinstance(rows, list)
        for row in rows:
            out.append(f"[[{table}]]")
            out += [f"{k} = {val(v)}" for k, v in row.items()]
            out.append("")
    return "\n".join(out)


def tile_on_screen(tile: QWidget) -> QPixmap:
    """What the wall shows in the tile's place (the wall paints its transparent tiles)."""
    wall = tile.parentWidget()
    assert wall is not None
    return wall.grab(tile.geometry())


def image_array(img: QImage | QPixmap) -> npt.NDArray[np.uint8]:
    """BGRA pixels (h, w, 4) of a QImage/QPixmap, copied."""
    qimg = img.toImage() if isinstance(img, QPixmap) else img
    qimg = qimg.convertToFormat(QImage.Format.Format_RGB32)
    h, w, bpl = qimg.height(), qimg.width(), qimg.bytesPerLine()
    buf = np.frombuffer(qimg.constBits(), np.uint8, count=h * bpl)
    return buf.reshape(h, bpl // 4, 4)[:, :w].copy()
