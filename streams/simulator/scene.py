"""A street or a square as a camera on a pole sees it: raw I420 frames in pure Python.

`Scene(width, height, seed=, night=)` draws, on its first frame, a background once
(sky, buildings with windows and shop signs, pavements with trees and lamps, a road with
lane markings and a zebra crossing, a paved square; at night a black-and-white infrared
picture with lit windows, signs and pools of lamp light) and the sprites of its moving
vehicles (cars, buses, lorries, scooters) and people (two walking poses). Every frame
is a copy of the background with the movers blitted at their positions (far ones
first), each mover going round a fixed path with a whole-number period in frames, so
the scene never needs more than a memory copy and a few thousand span copies per
frame. The seed picks the layout (street or square), buildings, colours and traffic;
every size of one seed shows the same scene (the design is in fractions of the picture).

Pure standard library (the simulator's server runs under the system Python, without
numpy): see `streams.simulator.canvas`.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass

if __package__:
    from streams.simulator import canvas as cv
else:  # loaded by path under the system Python; _server.py registered the sibling first
    cv = importlib.import_module("hall_camsim_canvas")

Colour = tuple[int, int, int]
RGB = tuple[int, int, int]

BUILDING_COLOURS: tuple[RGB, ...] = (
    (196, 180, 160), (170, 170, 175), (150, 95, 80), (210, 205, 190),
    (120, 130, 140), (185, 160, 120), (225, 220, 210), (140, 150, 135),
)  # fmt: skip
SIGN_COLOURS: tuple[RGB, ...] = ((200, 40, 40), (30, 80, 170), (230, 180, 40), (40, 140, 70))
CAR_COLOURS: tuple[RGB, ...] = (
    (235, 235, 235), (190, 192, 196), (30, 30, 34), (170, 30, 30),
    (40, 70, 140), (110, 112, 118), (235, 235, 235), (200, 200, 205),
)  # fmt: skip
SHIRTS: tuple[RGB, ...] = (
    (200, 50, 50), (40, 60, 120), (230, 230, 230), (60, 60, 60),
    (230, 190, 60), (70, 130, 80), (150, 80, 150), (90, 150, 200),
)  # fmt: skip
TROUSERS: tuple[RGB, ...] = ((40, 45, 70), (30, 30, 30), (90, 90, 95), (120, 100, 80))
GLASS = (80, 95, 110)
TYRE = (32, 32, 32)


@dataclass(frozen=True, slots=True)
class Mover:
    """A sprite going from (x0, y0) to (x1, y1) (top left) in `period` frames, round again."""

    poses: tuple[cv.Sprite, ...]
    x0: float
    y0: float
    x1: float
    y1: float
    period: int
    phase: int
    pose_frames: int = 6  # frames per walking pose

    def at(self, index: int) -> tuple[int, int, cv.Sprite]:
        t = ((index + self.phase) % self.period) / self.period
        x = round(self.x0 + (self.x1 - self.x0) * t)
        y = round(self.y0 + (self.y1 - self.y0) * t)
        pose = self.poses[(index // self.pose_frames) % len(self.poses)]
        return x, y, pose


@dataclass(frozen=True, slots=True)
class Layout:
    """Rows of the scene as fractions of the picture height."""

    square: bool
    base: float  # foot of the buildings
    road: tuple[float, float]
    lanes: tuple[tuple[float, int, float], ...]  # (wheel line, direction, scale)
    walks: tuple[tuple[float, float], ...]  # (foot line, person height) of the pavements


STREET = Layout(
    square=False,
    base=0.34,
    road=(0.40, 0.78),
    lanes=((0.485, -1, 0.80), (0.575, -1, 0.87), (0.675, 1, 0.94), (0.77, 1, 1.0)),
    walks=((0.385, 0.085), (0.845, 0.12), (0.93, 0.13)),
)
SQUARE = Layout(
    square=True,
    base=0.26,
    road=(0.30, 0.46),
    lanes=((0.37, -1, 0.70), (0.45, 1, 0.78)),
    walks=((0.29, 0.07), (0.49, 0.09), (0.62, 0.10), (0.78, 0.12), (0.93, 0.14)),
)


class Scene:
    """Frames of one camera's scene; nothing is drawn until the first `frame()`."""

    def __init__(self, width: int, height: int, *, seed: int, night: bool = False) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"scene: size must be positive and even, got {width}x{height}")
        self.width, self.height, self.seed, self.night = width, height, seed, night
        self.layout = SQUARE if seed % 3 == 2 else STREET
        self._background: bytes | None = None
        self._movers: list[Mover] = []

    # -- colours -------------------------------------------------------------------
    def colour(self, rgb: RGB) -> Colour:
        return cv.yuv(*rgb)

    def ir_table(self, row_fraction: float) -> bytes:
        """Night luma at a height of the picture: the infrared lamp lights the near field."""
        return cv.level_table(0.30 + 0.50 * row_fraction, 6)

    # -- frames --------------------------------------------------------------------------
    def prepare(self) -> None:
        """Draw the background and the sprites now (else the first frame does)."""
        if self._background is None:
            self._build()

    def frame(self, index: int) -> bytearray:
        """Frame `index` (I420, width x height), without any stamp."""
        if self._background is None:
            self._build()
        assert self._background is not None
        out = bytearray(self._background)
        placed = [m.at(index) for m in self._movers]
        placed.sort(key=lambda p: p[1] + p[2].height)  # far (higher) ones first
        w, h = self.width, self.height
        for x, y, sprite in placed:
            cv.blit(out, w, h, sprite, x, y)
        return out

    def window(self, index: int, x0: int, y0: int, width: int, height: int) -> bytearray:
        """Frame `index` cut to the window at (x0, y0) (even), width x height (even), I420.

        Only the window's rows are copied and only its movers drawn: a PTZ camera's
        picture over a large scene (`ptz_picture`) costs about what its window's size costs.
        """
        if self._background is None:
            self._build()
        bg = self._background
        assert bg is not None
        w, h, w2 = self.width, self.height, self.width // 2
        parts = [bg[(y0 + r) * w + x0 : (y0 + r) * w + x0 + width] for r in range(height)]
        cx, cy, cw = x0 // 2, y0 // 2, width // 2
        for base in (w * h, w * h + w2 * (h // 2)):
            o = base + cy * w2 + cx
            parts.extend(bg[o + r * w2 : o + r * w2 + cw] for r in range(height // 2))
        out = bytearray(b"".join(parts))
        placed = [m.at(index) for m in self._movers]
        placed.sort(key=lambda p: p[1] + p[2].height)
        for x, y, sprite in placed:
            if (
                x + sprite.width > x0
                and x < x0 + width
                and y + sprite.height > y0
                and y < y0 + height
            ):
                cv.blit(out, width, height, sprite, x - x0, y - y0)
        return out

    def _build(self) -> None:
        rng = random.Random(self.seed * 7919 + (1 if self.night else 0))
        canvas = cv.Canvas(self.width, self.height, self.colour((150, 185, 225)))
        lights = draw_background(self, canvas, rng)
        if self.night:
            canvas.grey(lambda r: self.ir_table(r / self.height))
            for light in lights:
                light(canvas)
        frame = bytearray(canvas.i420())
        self._movers = traffic(self, rng) + walkers(self, rng)
        for sprite, x, y in bystanders(self, rng):
            cv.blit(frame, self.width, self.height, sprite, x, y)
        self._background = bytes(frame)


# ---- the background -----------------------------------------------------------------
Light = Callable[[cv.Canvas], None]


def draw_background(scene: Scene, c: cv.Canvas, rng: random.Random) -> list[Light]:
    """Draw the day picture; return the lights to draw after the night conversion."""
    lay, w, h = scene.layout, scene.width, scene.height
    col = scene.colour
    lights: list[Light] = []
    for i in range(16):  # sky: lighter towards the horizon
        t = i / 15
        sky = (round(150 + 55 * t), round(185 + 30 * t), round(225 + 5 * t))
        c.rect(0, h * lay.base * i / 16, w, h * lay.base * (i + 1) / 16, col(sky))
    lights += draw_buildings(scene, c, rng)
    base_y = round(lay.base * h)
    road0, road1 = round(lay.road[0] * h), round(lay.road[1] * h)
    pave = cv.texture_rows(w, col((178, 172, 162))[0], 7, 12, rng.randrange, grain=2)
    c.textured(0, base_y, w, road0, pave, col((178, 172, 162))[1:])
    seam = col((140, 136, 128))
    for x in range(rng.randrange(20), w, max(8, w // 24)):
        c.rect(x, base_y, x + max(1, w // 640), road0, seam)
    c.rect(0, road0 - max(2, h // 120), w, road0, col((205, 205, 200)))  # kerb
    asphalt = cv.texture_rows(w, col((92, 93, 97))[0], 5, 16, rng.randrange)
    c.textured(0, road0, w, road1, asphalt, col((92, 93, 97))[1:])
    draw_markings(scene, c, rng)
    lights += draw_square(scene, c, rng, road1)
    lights += draw_trees_and_lamps(scene, c, rng, base_y, road0)
    return lights


def draw_buildings(scene: Scene, c: cv.Canvas, rng: random.Random) -> list[Light]:
    w, h, col = scene.width, scene.height, scene.colour
    base = round(scene.layout.base * h)
    lights: list[Light] = []
    x = -rng.randrange(max(1, w // 20))
    while x < w:
        bw = round(w * rng.uniform(0.09, 0.2))
        top = round(h * rng.uniform(0.05, 0.2))
        wall = rng.choice(BUILDING_COLOURS)
        c.rect(x, top, x + bw, base, col(wall))
        c.rect(x, top, x + bw, top + max(2, h // 180), col(tuple(v * 3 // 4 for v in wall)))  # type: ignore[arg-type]
        shop = round(base - h * 0.065)
        step_x, step_y = max(6, round(w * 0.028)), max(6, round(h * 0.042))
        for wy in range(top + step_y // 2, shop - step_y, step_y):
            for wx in range(x + step_x // 3, x + bw - step_x // 2, step_x):
                box = (wx, wy, wx + step_x * 11 // 20, wy + step_y * 11 // 20)
                c.rect(*box, col(GLASS))
                if rng.random() < 0.35:
                    lights.append(_lit(box, rng.randrange(150, 215)))
        c.rect(x, shop, x + bw, base, col((60, 68, 78)))  # shop windows
        sign = (x + 2, shop - max(4, h // 40), x + bw - 2, shop)
        c.rect(*sign, col(rng.choice(SIGN_COLOURS)))
        lights.append(_lit(sign, 200))
        lights += draw_letters(c, sign, rng, col((245, 245, 240)))
        x += bw + rng.randrange(0, max(2, w // 60))
    return lights


def _lit(box: tuple[int, int, int, int], level: int) -> Light:
    def light(c: cv.Canvas) -> None:
        c.rect(*box, (level, 128, 128))

    return light


def draw_letters(
    c: cv.Canvas, sign: tuple[int, int, int, int], rng: random.Random, ink: Colour
) -> list[Light]:
    """Blocky characters on a shop sign (three strokes each), lit at night."""
    x0, y0, x1, y1 = sign
    size = max(2, (y1 - y0) * 3 // 4)
    pad = (y1 - y0 - size) // 2
    boxes = []
    for cx in range(x0 + size, x1 - 2 * size, size + size // 2):
        for _ in range(3):
            if rng.random() < 0.5:  # a horizontal stroke
                sy = y0 + pad + rng.randrange(size)
                boxes.append((cx, sy, cx + size, sy + max(1, size // 6)))
            else:
                sx = cx + rng.randrange(size)
                boxes.append((sx, y0 + pad, sx + max(1, size // 6), y0 + pad + size))
    for b in boxes:
        c.rect(*b, ink)
    return [_lit(b, 90) for b in boxes]


def draw_markings(scene: Scene, c: cv.Canvas, rng: random.Random) -> None:
    w, h, col = scene.width, scene.height, scene.colour
    lay = scene.layout
    white, yellow = col((225, 225, 220)), col((220, 180, 40))
    thick = max(2, h // 150)
    lines = [(lay.lanes[i][0] + lay.lanes[i + 1][0]) / 2 for i in range(len(lay.lanes) - 1)]
    for i, y in enumerate(lines):
        yy = round((y - 0.012) * h)
        if len(lines) > 1 and i == len(lines) // 2:  # the centre line: double yellow
            c.rect(0, yy - thick, w, yy, yellow)
            c.rect(0, yy + thick, w, yy + 2 * thick, yellow)
            continue
        dash = max(8, w // 24)
        for x in range(rng.randrange(dash), w, 2 * dash):
            c.rect(x, yy, x + dash, yy + thick, white)
    x0 = round(w * rng.uniform(0.45, 0.75))  # the zebra crossing
    top, bottom = round(lay.road[0] * h) + thick, round(lay.road[1] * h) - thick
    bar = max(3, h // 90)
    for y in range(top, bottom - bar, 2 * bar):
        c.rect(x0, y, x0 + round(w * 0.11), y + bar, white)


def draw_square(scene: Scene, c: cv.Canvas, rng: random.Random, top: int) -> list[Light]:
    """The near pavement and the paved square below the road (with beds and a fountain)."""
    w, h, col = scene.width, scene.height, scene.colour
    c.rect(0, top, w, top + max(2, h // 120), col((205, 205, 200)))
    tones = (col((186, 176, 160)), col((160, 154, 146)))
    tile_w, tile_h = max(8, round(w * 0.06)), max(6, round(h * 0.045))
    for j, y in enumerate(range(top + h // 120, h, tile_h)):
        for i, x in enumerate(range(-(j % 2) * tile_w // 2, w, tile_w)):
            c.rect(x, y, x + tile_w - 1, y + tile_h - 1, tones[(i + j) % 2])
    lights: list[Light] = []
    if scene.layout.square:
        cx, cy = w * rng.uniform(0.35, 0.65), h * 0.72
        c.ellipse(cx, cy, w * 0.13, h * 0.09, col((200, 198, 190)))
        c.ellipse(cx, cy, w * 0.115, h * 0.075, col((70, 120, 160)))
        c.ellipse(cx, cy - h * 0.02, w * 0.015, h * 0.05, col((220, 235, 245)))
        lights.append(_pool_light((cx, cy, w * 0.13, h * 0.09), 1.4, 15))
    for _ in range(rng.randrange(1, 3)):  # flower beds
        bx, by = rng.uniform(0.02, 0.8) * w, rng.uniform(0.87, 0.93) * h
        bw, bh = w * rng.uniform(0.1, 0.18), h * 0.05
        c.rect(bx, by, bx + bw, by + bh, col((70, 50, 35)))
        c.rect(bx + 2, by + 2, bx + bw - 2, by + bh - 2, col((60, 120, 50)))
        for _ in range(24):
            fx, fy = bx + rng.uniform(3, bw - 6), by + rng.uniform(3, bh - 5)
            c.rect(fx, fy, fx + 3, fy + 2, col(rng.choice(((220, 50, 60), (240, 210, 60)))))
    return lights


def _pool_light(spot: tuple[float, float, float, float], scale: float, offset: float) -> Light:
    """A pool of light (an ellipse brightened) at night."""
    cx, cy, rx, ry = spot
    top = round(cy - ry)
    spans = cv.ellipse_spans(cx, cy, rx, ry, top, round(cy + ry))
    table = cv.level_table(scale, offset)

    def light(c: cv.Canvas) -> None:
        c.relevel(top, spans, table)

    return light


def draw_trees_and_lamps(
    scene: Scene, c: cv.Canvas, rng: random.Random, base_y: int, road0: int
) -> list[Light]:
    w, h, col = scene.width, scene.height, scene.colour
    leaves = [col(g) for g in ((52, 96, 44), (70, 120, 55), (40, 80, 38), (90, 140, 70))]
    x = rng.uniform(0.02, 0.1) * w
    while x < w:
        c.rect(x - w * 0.004, base_y - h * 0.07, x + w * 0.004, road0 - h * 0.01, col((90, 70, 50)))
        cy, rx, ry = base_y - h * 0.09, w * 0.045, h * 0.065
        c.ellipse(x, cy, rx, ry, leaves[0])
        for _ in range(14):
            c.ellipse(
                x + rng.uniform(-0.7, 0.7) * rx,
                cy + rng.uniform(-0.6, 0.6) * ry,
                rx * rng.uniform(0.15, 0.35),
                ry * rng.uniform(0.15, 0.35),
                rng.choice(leaves),
            )
        x += w * rng.uniform(0.14, 0.24)
    lights: list[Light] = []
    x = rng.uniform(0.1, 0.2) * w
    pole = col((120, 122, 126))
    while x < w:
        top = base_y - h * 0.2
        c.rect(x, top, x + max(2, w // 400), road0 - h * 0.005, pole)
        head = (round(x - w * 0.012), round(top), round(x + w * 0.014), round(top + h * 0.01))
        c.rect(*head, pole)
        lights.append(_lit(head, 235))
        spot = (x, road0 + h * 0.05, w * 0.09, h * 0.06)
        lights.append(_pool_light(spot, 1.6, 18))
        x += w * rng.uniform(0.28, 0.4)
    return lights


# ---- movers ---------------------------------------------------------------------------
def vehicle(scene: Scene, kind: str, rgb: RGB, length: int, height: int, facing: int) -> cv.Sprite:
    """A vehicle seen from the side, `facing` +1 (right) or -1 (left)."""
    c = cv.Canvas(length + length % 2, height + height % 2, (16, 128, 128), masked=True)
    w, h, col = c.w, c.h, scene.colour

    def box(x0: float, y0: float, x1: float, y1: float, colour: Colour) -> None:
        if facing < 0:
            x0, x1 = 1 - x1, 1 - x0
        c.rect(x0 * w, y0 * h, x1 * w, y1 * h, colour)

    def wheel(x: float) -> None:
        cx = (x if facing > 0 else 1 - x) * w
        c.ellipse(cx, 0.83 * h, 0.085 * w if kind != "bus" else 0.05 * w, 0.17 * h, col(TYRE))
        c.ellipse(cx, 0.83 * h, 0.035 * w if kind != "bus" else 0.02 * w, 0.07 * h, col((150,) * 3))

    body, dark = col(rgb), col(tuple(max(0, v * 2 // 3) for v in rgb))  # type: ignore[arg-type]
    lamps: list[tuple[float, float, float, float, int]] = []
    wheels: tuple[float, ...]
    if kind == "bus":
        box(0.01, 0.04, 0.99, 0.84, body)
        box(0.03, 0.12, 0.97, 0.48, col(GLASS))
        for i in range(1, 10):
            box(i / 10, 0.12, i / 10 + 0.012, 0.48, body)
        box(0.01, 0.55, 0.99, 0.62, col(rng_pick(rgb, SIGN_COLOURS)))
        box(0.86, 0.12, 0.93, 0.8, col(GLASS))
        wheels = (0.14, 0.8)
        lamps = [(0.97, 0.62, 0.99, 0.7, 235), (0.01, 0.62, 0.03, 0.7, 150)]
    elif kind == "lorry":
        box(0.01, 0.02, 0.72, 0.78, body)
        for i in range(1, 9):
            box(i * 0.08, 0.02, i * 0.08 + 0.006, 0.78, dark)
        box(0.74, 0.24, 0.98, 0.84, col((200, 200, 205)))
        box(0.83, 0.3, 0.96, 0.5, col(GLASS))
        box(0.01, 0.76, 0.98, 0.84, col((40, 40, 42)))
        wheels = (0.13, 0.3, 0.86)
        lamps = [(0.96, 0.62, 0.99, 0.7, 235), (0.01, 0.6, 0.03, 0.68, 150)]
    elif kind == "scooter":
        box(0.12, 0.58, 0.86, 0.76, body)
        box(0.36, 0.16, 0.64, 0.55, col(rng_pick(rgb, SHIRTS)))
        box(0.40, 0.02, 0.60, 0.16, col((40, 40, 40)))
        box(0.42, 0.52, 0.62, 0.7, col((40, 45, 70)))
        wheels = (0.2, 0.8)
        lamps = [(0.86, 0.5, 0.95, 0.6, 235)]
    else:  # car
        roof = [
            (round(w * (0.30 - 0.12 * t)), round(w * (0.68 + 0.12 * t)))
            for t in _steps(h, 0.08, 0.45)
        ]
        if facing < 0:
            roof = [(w - b, w - a) for a, b in roof]
        c.rows(round(0.08 * h), roof, body)
        box(0.01, 0.42, 0.99, 0.82, body)
        glass = [(a + w // 40, b - w // 40) for a, b in roof[len(roof) // 6 : -1]]
        c.rows(round(0.08 * h) + len(roof) // 6, glass, col(GLASS))
        box(0.49, 0.12, 0.52, 0.44, body)
        box(0.49, 0.46, 0.5, 0.76, dark)
        wheels = (0.2, 0.8)
        lamps = [(0.95, 0.48, 0.99, 0.56, 235), (0.01, 0.47, 0.04, 0.55, 150)]
    for x in wheels:
        wheel(x)
    for x0, y0, x1, y1, _ in lamps:
        box(x0, y0, x1, y1, col((235, 225, 190)))
    if scene.night:
        _night_sprite(scene, c, lamps, facing)
    return c.sprite()


def _steps(h: int, top: float, bottom: float) -> list[float]:
    n = max(1, round((bottom - top) * h))
    return [i / n for i in range(n)]


def rng_pick(rgb: RGB, choices: tuple[RGB, ...]) -> RGB:
    return choices[sum(rgb) % len(choices)]


def _night_sprite(
    scene: Scene, c: cv.Canvas, lamps: list[tuple[float, float, float, float, int]], facing: int
) -> None:
    table = scene.ir_table(0.6)
    c.y[:] = c.y.translate(table)
    c.u[:] = b"\x80" * len(c.u)
    c.v[:] = b"\x80" * len(c.v)
    for x0, y0, x1, y1, level in lamps:
        if facing < 0:
            x0, x1 = 1 - x1, 1 - x0
        c.rect(x0 * c.w, y0 * c.h, x1 * c.w, y1 * c.h, (level, 128, 128))


def person(scene: Scene, rng: random.Random, height: int, at: float) -> tuple[cv.Sprite, ...]:
    """Two walking poses of one person `height` pixels tall, standing `at` a picture height."""
    hh = height + height % 2
    ww = max(4, round(hh * 0.36))
    ww += ww % 2
    shirt, trousers = scene.colour(rng.choice(SHIRTS)), scene.colour(rng.choice(TROUSERS))
    skin, hair = scene.colour((205, 165, 135)), scene.colour((30, 25, 22))
    poses = []
    for pose in range(2):
        c = cv.Canvas(ww, hh, (16, 128, 128), masked=True)
        w, h = c.w, c.h
        c.rect(0.2 * w, 0.17 * h, 0.8 * w, 0.56 * h, shirt)
        swing = 0.04 * h if pose else 0.0
        c.rect(0.04 * w, 0.19 * h + swing, 0.2 * w, 0.5 * h + swing, shirt)
        c.rect(0.8 * w, 0.19 * h - swing, 0.96 * w, 0.5 * h - swing, shirt)
        if pose:
            c.rect(0.14 * w, 0.55 * h, 0.46 * w, 0.95 * h, trousers)
            c.rect(0.56 * w, 0.55 * h, 0.88 * w, 0.95 * h, trousers)
        else:
            c.rect(0.3 * w, 0.55 * h, 0.72 * w, 0.95 * h, trousers)
        c.rect(0.1 * w, 0.95 * h, 0.9 * w, h, scene.colour((25, 25, 25)))
        c.ellipse(0.5 * w, 0.09 * h, 0.2 * w, 0.085 * h, skin)
        c.rect(0.3 * w, 0.0, 0.7 * w, 0.05 * h, hair)
        if scene.night:
            c.y[:] = c.y.translate(scene.ir_table(at))
            c.u[:] = b"\x80" * len(c.u)
            c.v[:] = b"\x80" * len(c.v)
        poses.append(c.sprite())
    return tuple(poses)


KINDS = ("car", "car", "car", "car", "scooter", "bus", "lorry", "car")
SIZES = {"car": (170, 62), "bus": (400, 124), "lorry": (300, 112), "scooter": (70, 72)}


def traffic(scene: Scene, rng: random.Random) -> list[Mover]:
    w, h = scene.width, scene.height
    sx, sy = w / 1280, h / 720
    movers = []
    for line, direction, scale in scene.layout.lanes:
        count = rng.randrange(2, 4)
        period = rng.randrange(170, 280)
        span = w + 420 * sx * scale
        for k in range(count):
            kind = rng.choice(KINDS)
            length, height = SIZES[kind]
            sprite = vehicle(
                scene, kind, rng.choice(CAR_COLOURS), round(length * sx * scale),
                round(height * sy * scale), direction,
            )  # fmt: skip
            y = line * h - sprite.height
            start, end = (-sprite.width, span - sprite.width) if direction > 0 else (w, w - span)
            phase = (k * period) // count + rng.randrange(max(1, period // (4 * count)))
            movers.append(Mover((sprite,), start, y, end, y, period, phase))
    return movers


def walkers(scene: Scene, rng: random.Random) -> list[Mover]:
    w, h = scene.width, scene.height
    movers = []
    for foot, tall in scene.layout.walks:
        for _ in range(rng.randrange(2, 5)):
            poses = person(scene, rng, round(tall * h), foot)
            y = foot * h - poses[0].height + rng.uniform(-0.01, 0.01) * h
            right = rng.random() < 0.5
            a, b = -poses[0].width, w
            period = rng.randrange(500, 1100)
            rise = rng.uniform(-0.04, 0.04) * h if scene.layout.square else 0.0
            movers.append(
                Mover(
                    poses,
                    a if right else b,
                    y,
                    b if right else a,
                    y + rise,
                    period,
                    rng.randrange(period),
                )
            )
    return movers


def bystanders(scene: Scene, rng: random.Random) -> list[tuple[cv.Sprite, int, int]]:
    """People standing still on the pavements (drawn into the background once)."""
    out = []
    for foot, tall in scene.layout.walks[:2]:
        for _ in range(rng.randrange(1, 3)):
            sprite = person(scene, rng, round(tall * scene.height), foot)[0]
            x = round(rng.uniform(0.05, 0.95) * scene.width)
            out.append((sprite, x, round(foot * scene.height) - sprite.height))
    return out
