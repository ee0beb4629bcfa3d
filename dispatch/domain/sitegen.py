"""A generated county site for scale: thousands of cameras in townships, villages and grids.

`county_site(CountySpec(cameras=5000))` gives the site as plain data (what a TOML site
file holds), deterministic for a given spec and seed; `site_toml(data)` writes it as the
text of a site file. Pure: the command that writes a file is `scripts/make_county_site.py`.

The county is a rectangle split into townships (a grid of blocks), each township into
villages, each village into grids (strips, with their polygons); every grid has a grid
leader, every township a supervisor, the county one maintenance unit (`maint`). Cameras
are spread over the villages (unevenly, as in a real county), each in one grid at a point
inside it. Their URLs point at a few simulator cameras (`hall-camsim --cameras N
--base-port P`: camera i uses simulator camera i mod N), so the console and the patrol
can pull real video from any of them; with `relays`, every township's cameras go through
one of that many relays (`Site.relays`).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TOWN_NAMES = (
    "城关", "河西", "青山", "东关", "南营", "北坡", "石桥", "柳林", "杨庄", "白水",
    "黄土", "红旗", "新华", "永安", "太平", "长乐", "安宁", "龙泉", "金沙", "双河",
    "马坊", "高庄", "西岭", "东湖", "南山", "北川", "清河", "凤凰", "桃园", "梨树",
)  # fmt: skip
VILLAGE_HEADS = "东西南北前后上下大小新老张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
VILLAGE_TAILS = "庄集湾沟坡岭店营堡屯桥坪河园台洼寨村铺头口"
PLACES = (
    "村委会", "十字路口", "学校门口", "卫生室", "文化广场", "农贸市场", "桥头",
    "加油站", "丁字路口", "停车场", "村口", "广场东侧", "幼儿园", "养老院", "便民服务站",
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "建国秀英志强桂兰海燕德明春梅立新晓东玉芳国庆丽娟文华红霞伟军"


@dataclass(frozen=True, slots=True)
class CountySpec:
    """What to generate; the defaults are a county of 5,000 cameras."""

    cameras: int = 5000
    townships: int = 20
    villages: int = 300
    grids_per_village: int = 3
    seed: int = 1
    sim_cameras: int = 16  # the simulator cameras the URLs point at
    sim_host: str = "127.0.0.1"
    sim_base_port: int = 8601
    credentials: bool = True  # the cameras ask for the simulator's credentials
    relays: int = 0  # relays, each serving some townships' cameras
    relay_base_port: int = 8554
    bbox: tuple[float, float, float, float] = (112.30, 37.70, 112.80, 38.10)  # W, S, E, N

    def check(self) -> None:
        if not 1 <= self.townships <= len(TOWN_NAMES) * 3:
            raise ValueError(f"townships: {self.townships} outside 1..{len(TOWN_NAMES) * 3}")
        if self.villages < self.townships:
            raise ValueError("villages: at least one per township")
        if self.cameras < 0 or self.grids_per_village < 1 or self.sim_cameras < 1:
            raise ValueError("cameras >= 0, grids_per_village >= 1, sim_cameras >= 1")
        if not 0 <= self.relays <= self.townships:
            raise ValueError(f"relays: {self.relays} outside 0..{self.townships}")
        if self.sim_base_port + self.sim_cameras - 1 > 65535:
            raise ValueError("sim_base_port + sim_cameras exceeds 65535")


Box = tuple[float, float, float, float]  # west, south, east, north


def split_box(box: Box, n: int) -> list[Box]:
    """`box` cut into `n` blocks, row by row (columns about as many as rows)."""
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    w, s, e, north = box
    dw, dh = (e - w) / cols, (north - s) / rows
    out = []
    for i in range(n):
        r, c = divmod(i, cols)
        out.append((w + c * dw, north - (r + 1) * dh, w + (c + 1) * dw, north - r * dh))
    return out


def strips(box: Box, n: int) -> list[Box]:
    """`box` cut into `n` vertical strips (a village's grids)."""
    w, s, e, north = box
    dw = (e - w) / n
    return [(w + i * dw, s, w + (i + 1) * dw, north) for i in range(n)]


def ring(box: Box) -> list[list[float]]:
    """The box as a closed (lon, lat) ring, GeoJSON order, 6 decimals."""
    w, s, e, n = (round(v, 6) for v in box)
    return [[w, s], [e, s], [e, n], [w, n], [w, s]]


def share(total: int, parts: int, rng: random.Random, spread: float = 0.5) -> list[int]:
    """`total` split into `parts` uneven whole shares (weights 1 ± spread) summing to it."""
    weights = [1.0 + spread * (2 * rng.random() - 1) for _ in range(parts)]
    scale = total / sum(weights)
    counts = [math.floor(w * scale) for w in weights]
    for i in sorted(range(parts), key=lambda k: weights[k] * scale - counts[k], reverse=True)[
        : total - sum(counts)
    ]:
        counts[i] += 1
    return counts


def _names(heads: str, tails: str, rng: random.Random) -> Iterator[str]:
    """Distinct two-character names, in a seeded order."""
    pairs = [a + b for a in heads for b in tails]
    rng.shuffle(pairs)
    yield from pairs
    n = 2
    while True:  # more villages than pairs: number them
        for p in pairs:
            yield f"{p}{n}"
        n += 1


def _town_name(i: int) -> str:
    base = TOWN_NAMES[i % len(TOWN_NAMES)]
    return base + ("镇", "乡", "街道")[(i // len(TOWN_NAMES) + i) % 3]


def _person(pid: str, role: str, rng: random.Random, name: str | None = None) -> dict[str, Any]:
    if name is None:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2])
    phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    return {"id": pid, "name": name, "role": role, "phone": phone}


def _stream(spec: CountySpec, sim: int, kind: str, size: tuple[int, int]) -> dict[str, Any]:
    port = spec.sim_base_port + sim - 1
    url = f"rtsp://{spec.sim_host}:{port}/cam{sim}/{kind}"
    return {"url": url, "width": size[0], "height": size[1]}


def county_site(spec: CountySpec) -> dict[str, Any]:
    """The site as plain data (`dispatch.domain.site.parse_site` reads it)."""
    spec.check()
    rng = random.Random(spec.seed)
    data: dict[str, Any] = {"name": f"规模测试县综治中心（{spec.cameras} 路）"}
    if spec.credentials:
        data["credentials"] = {
            "camsim": {"username": "admin", "password_env": "HALL_CAMSIM_PASSWORD"}
        }
    towns: list[dict[str, Any]] = []
    villages: list[dict[str, Any]] = []
    grids: list[dict[str, Any]] = []
    cameras: list[dict[str, Any]] = []
    people = [_person("maint", "maintenance", rng, "县雪亮工程运维单位")]
    town_boxes = split_box(spec.bbox, spec.townships)
    per_town = share(spec.villages, spec.townships, rng, 0.3)
    village_names = _names(VILLAGE_HEADS, VILLAGE_TAILS, rng)
    village_boxes: list[tuple[str, str, Box]] = []
    for ti, (tbox, nv) in enumerate(zip(town_boxes, per_town, strict=True)):
        tid = f"t{ti + 1:02d}"
        towns.append({"id": tid, "name": _town_name(ti)})
        people.append(
            _person(f"st{ti + 1:02d}", "township_supervisor", rng, f"{_town_name(ti)}综治中心")
        )
        for vbox in split_box(tbox, max(1, nv)):
            vid = f"v{len(villages) + 1:03d}"
            vname = next(village_names) + ("社区" if rng.random() < 0.2 else "村")
            villages.append({"id": vid, "name": vname, "township": tid})
            village_boxes.append((vid, tid, vbox))
            for gi, gbox in enumerate(strips(vbox, spec.grids_per_village), start=1):
                pid = f"p{len(people):05d}"
                people.append(_person(pid, "grid_leader", rng))
                gid = f"{vid}g{gi}"
                grids.append(
                    {
                        "id": gid,
                        "name": f"{vname}第{gi}网格",
                        "village": vid,
                        "leader": pid,
                        "polygon": ring(gbox),
                    }
                )
    per_village = share(spec.cameras, len(village_boxes), rng)
    vnames = {v["id"]: v["name"] for v in villages}
    for (vid, tid, vbox), count in zip(village_boxes, per_village, strict=True):
        gboxes = strips(vbox, spec.grids_per_village)
        for k in range(count):
            n = len(cameras) + 1
            gi = k % spec.grids_per_village
            w, s, e, north = gboxes[gi]
            place = PLACES[k % len(PLACES)] + (
                f"{k // len(PLACES) + 1}" if k >= len(PLACES) else ""
            )
            sim = (n - 1) % spec.sim_cameras + 1
            cam: dict[str, Any] = {
                "id": f"c{n:05d}",
                "name": f"{vnames[vid]}{place}",
                "township": tid,
                "village": vid,
                "grid": f"{vid}g{gi + 1}",
                "lon": round(rng.uniform(w + (e - w) * 0.1, e - (e - w) * 0.1), 6),
                "lat": round(rng.uniform(s + (north - s) * 0.1, north - (north - s) * 0.1), 6),
            }
            if spec.credentials:
                cam["credentials"] = "camsim"
            cam["main"] = _stream(spec, sim, "main", (1280, 720))
            cam["sub"] = _stream(spec, sim, "sub", (704, 576))
            cam["third"] = _stream(spec, sim, "third", (640, 360))
            cameras.append(cam)
    data.update(townships=towns, villages=villages, people=people, grids=grids, cameras=cameras)
    if spec.relays:
        data["relays"] = [
            {
                "id": f"relay{r + 1}",
                "url": f"rtsp://{spec.sim_host}:{spec.relay_base_port + r}",
                "townships": [t["id"] for i, t in enumerate(towns) if i % spec.relays == r],
            }
            for r in range(spec.relays)
        ]
    return data


# -- TOML ------------------------------------------------------------------------------


def toml_value(v: object) -> str:
    """One TOML value: strings as JSON strings (valid TOML basic strings), numbers,
    booleans, arrays and inline tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"no TOML for {type(v).__name__}")


def site_toml(data: dict[str, Any], header: str = "") -> str:
    """A site's plain data as the text of a site file (scalars, [credentials.*] tables,
    then arrays of tables)."""
    out = [f"# {line}" for line in header.splitlines()]
    tables: list[str] = []
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for row in value:
                tables += ["", f"[[{key}]]"] + [f"{k} = {toml_value(x)}" for k, x in row.items()]
        elif key == "credentials" and isinstance(value, dict):
            for name, cred in value.items():
                tables += ["", f"[credentials.{name}]"]
                tables += [f"{k} = {toml_value(x)}" for k, x in cred.items()]
        elif isinstance(value, dict):
            tables += ["", f"[{key}]"] + [f"{k} = {toml_value(x)}" for k, x in value.items()]
        else:
            out.append(f"{key} = {toml_value(value)}")
    return "\n".join(out + tables) + "\n"
