"""The soak's site: 16 wall cameras over the simulator's few (tiles share a camera's
mounts, each tile its own RTSP session), and the grid leaders the phones are."""

from __future__ import annotations

from typing import Any

from tests.integration.console.wall.test_wall_support import camsim_site_dict, site_toml

TILES = 16


def person_id(i: int) -> str:
    return f"p{i:03d}"


def soak_site(camsim: Any, people: int) -> str:
    """The site file's text: `TILES` cameras named after the simulator's (round robin)
    `people` grid leaders, and the maintenance unit the hub's patrol settings name
    (resources/patrol.toml)."""
    site = camsim_site_dict(camsim)
    real: list[dict[str, Any]] = list(site["cameras"])  # type: ignore[call-overload]
    cams = []
    for i in range(TILES):
        cam = dict(real[i % len(real)])
        cam["id"] = f"wall{i:02d}"
        cam["name"] = f"{cam['name']} {i + 1}"
        cams.append(cam)
    site["cameras"] = cams
    leaders = [
        {"id": person_id(i), "name": f"网格长{i}", "role": "grid_leader"} for i in range(people)
    ]
    site["people"] = [*leaders, {"id": "maint", "name": "运维单位", "role": "maintenance"}]
    return site_toml(site)
