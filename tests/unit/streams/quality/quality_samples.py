"""Synthetic camera samples for the quality diagnosis: healthy scenes and every fault.

A `Scene` is a random street-like picture drawn from a seed: a lit background, static
shapes, signs with text, a brick wall, foliage texture, sometimes a plain wall, and
objects that move between samples (the patrol samples key frames seconds apart). A
camera renders it with its own lighting, slight optics blur, sensor noise and, mostly,
JPEG compression. Each fault is made from such a scene, with a random severity:

    healthy      the scene as the camera sees it
    black        (almost) no signal: levels 0..14, maybe a white OSD name
    blank        one uniform colour (grey, blue "no signal", white, any) with slight noise
    frozen       the same picture every sample (only the stamp strip moves), re-encoded
    blur         out of focus: Gaussian or disk blur before the sensor noise
    covered      70..100 % of the lens behind a dark or bright defocused cover
    colour_cast  white balance gone: channel gains along a random hue
    noise        sensor noise sigma 10..30 (luma or colour noise)

`python -m tests.unit.streams.quality.quality_samples tune 0 60` prints each measure's
distribution per kind on seeds [0, 60) and suggests thresholds; the defaults in
resources/quality.toml were chosen that way. The tests evaluate on seeds the tuning never saw.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from streams.ingest.stamp import Y_BLACK, Y_WHITE, cell_edges, stamp_cells, strip_height
from streams.quality.diagnosis import Diagnosis, Fault, QualityThresholds, diagnose, load_thresholds

Image = npt.NDArray[np.uint8]

KINDS: tuple[str, ...] = (
    "healthy",
    "black",
    "blank",
    "frozen",
    "blur",
    "covered",
    "colour_cast",
    "noise",
)
KIND_FAULT: dict[str, Fault | None] = {
    "healthy": None,
    "black": Fault.BLACK,
    "blank": Fault.BLANK,
    "frozen": Fault.FROZEN,
    "blur": Fault.BLUR,
    "covered": Fault.COVERED,
    "colour_cast": Fault.COLOUR_CAST,
    "noise": Fault.NOISE,
}
WIDTH, HEIGHT = 704, 576
FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
    cv2.FONT_HERSHEY_TRIPLEX,
)
WORDS = ("NO PARKING", "EXIT", "BANK", "HOTEL", "OPEN 24H", "BUS 12", "PHARMACY", "A-1047")


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str
    seed: int
    severity: float  # 0 mildest .. 1 strongest within the kind's range
    frames: tuple[Image, ...]

    @property
    def expected(self) -> frozenset[Fault]:
        fault = KIND_FAULT[self.kind]
        return frozenset() if fault is None else frozenset({fault})


def as_u8(a: object) -> Image:
    return np.asarray(a, dtype=np.uint8)


def _f32(a: object) -> npt.NDArray[np.float32]:
    return np.asarray(a, dtype=np.float32)


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    c = rng.integers(lo, hi, size=3)
    return int(c[0]), int(c[1]), int(c[2])


def _scene_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    """A colour of a street scene: mostly greys and muted tones, some vivid ones."""
    if rng.random() < 0.3:
        return _colour(rng)
    grey = float(rng.uniform(20, 235))
    c = np.clip(grey + rng.uniform(-25, 25, 3), 0, 255)
    return int(c[0]), int(c[1]), int(c[2])


def _text(
    img: Image, rng: np.random.Generator, x: int, y: int, colour: tuple[int, int, int]
) -> None:
    word = WORDS[int(rng.integers(len(WORDS)))]
    font = FONTS[int(rng.integers(len(FONTS)))]
    scale = float(rng.uniform(0.6, 2.0))
    thick = int(rng.integers(1, 4))
    cv2.putText(img, word, (x, y), font, scale, colour, thick, cv2.LINE_AA)


@dataclass(frozen=True, slots=True)
class _Mover:
    kind: int  # 0 car, 1 person
    x: float
    y: float
    vx: float
    vy: float
    w: int
    h: int
    colour: tuple[int, int, int]


class Scene:
    """A random healthy scene; `render(t)` draws sample number `t` (BGR uint8)."""

    def __init__(self, rng: np.random.Generator, width: int = WIDTH, height: int = HEIGHT):
        self.width, self.height = width, height
        self.rng = rng
        self.light = float(rng.uniform(0.35, 1.15))  # scene lighting (dim night .. bright day)
        self.gamma = float(rng.uniform(0.8, 1.25))
        self.optics = float(rng.uniform(0.0, 0.7))  # a real lens is never perfectly sharp
        self.sensor = float(rng.uniform(0.5, 2.5)) + 1.5 * max(0.0, 0.8 - self.light)
        self.jpeg = int(rng.integers(55, 96)) if rng.random() < 0.7 else None
        self.stamp = bool(rng.random() < 0.5)  # the simulator's stamp strip
        self.static = self._draw_static()
        self.movers = [self._mover() for _ in range(int(rng.integers(3, 9)))]

    def _draw_static(self) -> Image:
        rng, w, h = self.rng, self.width, self.height
        # sky/buildings and ground: greys with a moderate tint (the objects carry colour)
        top = float(rng.uniform(70, 230)) + rng.uniform(-20, 20, 3).astype(np.float32)
        bottom = float(rng.uniform(40, 180)) + rng.uniform(-20, 20, 3).astype(np.float32)
        ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        side = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :, None]
        img = top * (1 - ramp) + bottom * ramp + float(rng.uniform(-25, 25)) * side
        out = np.clip(img, 0, 255).astype(np.uint8)
        if rng.random() < 0.5:  # foliage / gravel: fine texture
            x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(h // 4, h - 80))
            pw, ph = int(rng.integers(w // 6, w // 2)), int(rng.integers(60, h // 3))
            ph = min(ph, h - y0)
            tex = rng.normal(0, 1, (ph, pw)).astype(np.float32)
            tex = _f32(cv2.GaussianBlur(tex, (0, 0), float(rng.uniform(1.0, 3.0))))
            tex = tex / (tex.std() + 1e-6)
            base = np.array(_scene_colour(rng), np.float32)
            patch = base + tex[..., None] * float(rng.uniform(15, 35))
            out[y0 : y0 + ph, x0 : x0 + pw] = np.clip(patch, 0, 255).astype(np.uint8)
        if rng.random() < 0.5:  # brick wall
            x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(h // 5, h // 2))
            bw, bh = int(rng.integers(18, 40)), int(rng.integers(8, 16))
            mortar = _colour(rng, 150, 230)
            out[y0 : y0 + bh * 10, x0 : x0 + bw * 8] = mortar
            brick = _colour(rng, 40, 160)
            for r in range(10):
                shift = (bw // 2) * (r % 2)
                for c in range(-1, 9):
                    bx = x0 + c * bw + shift
                    cv2.rectangle(
                        out,
                        (bx + 1, y0 + r * bh + 1),
                        (bx + bw - 2, y0 + (r + 1) * bh - 2),
                        brick,
                        -1,
                    )
        for _ in range(int(rng.integers(12, 40))):  # buildings, poles, windows, signs
            shape = int(rng.integers(4))
            col = _scene_colour(rng)
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            if shape == 0:
                cv2.rectangle(
                    out,
                    (x, y),
                    (x + int(rng.integers(10, 160)), y + int(rng.integers(10, 160))),
                    col,
                    -1,
                )
            elif shape == 1:
                cv2.circle(out, (x, y), int(rng.integers(5, 60)), col, -1, cv2.LINE_AA)
            elif shape == 2:
                pts = rng.integers(-80, 80, size=(int(rng.integers(3, 7)), 2)) + np.array([x, y])
                cv2.fillPoly(out, [pts.astype(np.int32)], col, cv2.LINE_AA)
            else:
                x2, y2 = int(rng.integers(0, w)), int(rng.integers(0, h))
                cv2.line(out, (x, y), (x2, y2), col, int(rng.integers(1, 6)), cv2.LINE_AA)
        for _ in range(int(rng.integers(1, 5))):  # signs with text
            x, y = int(rng.integers(0, w - 200)), int(rng.integers(60, h - 20))
            bg = _colour(rng)
            cv2.rectangle(out, (x - 6, y - 40), (x + 210, y + 10), bg, -1)
            _text(out, rng, x, y, tuple(255 - v for v in bg))  # type: ignore[arg-type]
        if rng.random() < 0.35:  # a plain wall or sky: up to a third of the picture
            share = float(rng.uniform(0.1, 0.33))
            pw = int(w * math.sqrt(share) * rng.uniform(0.8, 1.25))
            ph = min(h, int(share * w * h / max(pw, 1)))
            x0, y0 = int(rng.integers(0, max(1, w - pw))), int(rng.integers(0, max(1, h - ph)))
            out[y0 : y0 + ph, x0 : x0 + pw] = _scene_colour(rng)
        return as_u8(out)

    def _mover(self) -> _Mover:
        rng = self.rng
        car = bool(rng.random() < 0.5)
        speed = float(rng.uniform(20, 80)) * float(rng.choice([-1, 1]))
        return _Mover(
            kind=0 if car else 1,
            x=float(rng.uniform(0, self.width)),
            y=float(rng.uniform(self.height * 0.3, self.height * 0.95)),
            vx=speed,
            vy=float(rng.uniform(-10, 10)),
            w=int(rng.integers(70, 160)) if car else int(rng.integers(14, 30)),
            h=int(rng.integers(35, 70)) if car else int(rng.integers(40, 90)),
            colour=_scene_colour(rng),
        )

    def content(self, t: int) -> Image:
        """The scene at sample `t`, before the camera: static layer plus moving objects."""
        out = self.static.copy()
        for m in self.movers:
            x = int((m.x + m.vx * t) % (self.width + m.w)) - m.w // 2
            y = int(m.y + m.vy * t)
            if m.kind == 0:
                cv2.rectangle(out, (x, y), (x + m.w, y + m.h), m.colour, -1, cv2.LINE_AA)
                cv2.rectangle(out, (x + 8, y + 6), (x + m.w - 8, y + m.h // 2), (40, 40, 40), -1)
                cv2.circle(out, (x + 15, y + m.h), 9, (20, 20, 20), -1, cv2.LINE_AA)
                cv2.circle(out, (x + m.w - 15, y + m.h), 9, (20, 20, 20), -1, cv2.LINE_AA)
            else:
                cv2.ellipse(out, (x, y), (m.w // 2, m.h // 2), 0, 0, 360, m.colour, -1, cv2.LINE_AA)
                cv2.circle(out, (x, y - m.h // 2 - 8), 8, (120, 150, 190), -1, cv2.LINE_AA)
        return out

    def camera(
        self,
        content: Image,
        *,
        optics: float | None = None,
        sensor: float | None = None,
        luma_only: bool = False,
        gains: npt.NDArray[np.float32] | None = None,
    ) -> npt.NDArray[np.float32]:
        """Lens, exposure and sensor: float BGR (not yet clipped or compressed)."""
        img = content.astype(np.float32)
        sigma = self.optics if optics is None else optics
        if sigma > 0.05:
            img = _f32(cv2.GaussianBlur(img, (0, 0), sigma))
        img = 255.0 * (img / 255.0) ** self.gamma * self.light
        if gains is not None:
            img = img * gains[None, None, :]
        noise = self.sensor if sensor is None else sensor
        if noise > 0:
            shape = img.shape[:2] if luma_only else img.shape
            n = self.rng.standard_normal(shape, dtype=np.float32) * np.float32(noise)
            img = img + (n[..., None] if luma_only else n)
        return img

    def encode(self, img: npt.NDArray[np.float32], t: int, quality: int | None = None) -> Image:
        """Clip, draw the stamp strip of sample `t`, and compress as the camera's codec."""
        out = np.clip(img, 0, 255).astype(np.uint8)
        if self.stamp:
            draw_stamp(out, t)
        q = self.jpeg if quality is None else quality
        return out if q is None else jpeg(out, q)


def draw_stamp(img: Image, t: int) -> None:
    """64 black/white cells across the top 1/20, different for every `t` (like the stamp)."""
    h, w = img.shape[:2]
    bits = np.random.default_rng(10_000_019 + t).integers(0, 2, 64)
    strip = h // 20
    for i, b in enumerate(bits):
        x0, x1 = i * w // 64, (i + 1) * w // 64
        img[:strip, x0:x1] = 255 if b else 0


def jpeg(img: Image, quality: int) -> Image:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert out is not None
    return np.asarray(out, dtype=np.uint8)


def _osd(img: Image, rng: np.random.Generator) -> None:
    """The camera's name, as many cameras draw it over any picture (black included)."""
    h = img.shape[0]
    cv2.putText(
        img,
        "CAM-0417 XINGFU RD",
        (12, h - 16),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.7,
        (235, 235, 235),
        2,
        cv2.LINE_AA,
    )


def _cover_mask(rng: np.random.Generator, w: int, h: int, share: float) -> npt.NDArray[np.float32]:
    """1 where the cover is: a soft-edged region of about `share` of the picture."""
    if share >= 0.97:
        return np.ones((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:  # a hand or a bag from one side: half-plane at a random angle
        angle = float(rng.uniform(0, 2 * math.pi))
        proj = (xx - w / 2) * math.cos(angle) + (yy - h / 2) * math.sin(angle)
        cut = float(np.quantile(proj, 1.0 - share))
        mask = (proj >= cut).astype(np.float32)
    else:  # a blob in front of the lens, centred somewhere near the middle
        cx, cy = w / 2 + rng.uniform(-0.15, 0.15) * w, h / 2 + rng.uniform(-0.15, 0.15) * h
        d = np.hypot((xx - cx) / w, (yy - cy) / h)
        cut = float(np.quantile(d, share))
        mask = (d <= cut).astype(np.float32)
    return _f32(cv2.GaussianBlur(mask, (0, 0), float(rng.uniform(10, 40))))


def make_sample(kind: str, seed: int, *, n_frames: int = 3) -> Sample:
    """Sample `seed` of `kind` (one of KINDS): `n_frames` BGR frames of 704 x 576."""
    if kind not in KIND_FAULT:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    rng = np.random.default_rng([KINDS.index(kind), seed])
    scene = Scene(rng)
    w, h = scene.width, scene.height
    frames: list[Image] = []
    severity = 0.0
    if kind == "healthy":
        frames = [scene.encode(scene.camera(scene.content(t)), t) for t in range(n_frames)]
    elif kind == "black":
        severity = float(rng.uniform(0, 1))
        level, noise = 14.0 * (1 - severity), float(rng.uniform(0, 1.5))
        osd = rng.random() < 0.5
        for t in range(n_frames):
            img = np.full((h, w, 3), level, np.float32)
            img += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(noise)
            out = np.clip(img, 0, 255).astype(np.uint8)
            if osd:
                _osd(out, rng)
            frames.append(scene.encode(out.astype(np.float32), t))
    elif kind == "blank":
        choice = int(rng.integers(4))
        colour = [(200, 60, 20), (128, 128, 128), (235, 235, 235), _colour(rng, 60, 256)][choice]
        noise, osd = float(rng.uniform(0, 2.0)), rng.random() < 0.5
        for t in range(n_frames):
            img = np.empty((h, w, 3), np.float32)
            img[:] = colour
            img += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(noise)
            out = np.clip(img, 0, 255).astype(np.uint8)
            if osd:
                _osd(out, rng)
            frames.append(scene.encode(out.astype(np.float32), t))
    elif kind == "frozen":
        severity = float(rng.uniform(0, 1))  # re-encode drift, 0 = bit-identical pictures
        still = np.clip(scene.camera(scene.content(0)), 0, 255)
        drift = 0.8 * severity
        for t in range(n_frames):
            img = still + rng.standard_normal(still.shape, dtype=np.float32) * np.float32(drift)
            frames.append(scene.encode(img, t))
    elif kind == "blur":
        severity = float(rng.uniform(0, 1))
        sigma = 2.0 + 4.0 * severity
        disk = rng.random() < 0.5
        for t in range(n_frames):
            content = scene.content(t)
            if disk:  # defocus: a disk kernel of about the same spread
                r = max(2, round(sigma * 1.6))
                kernel = np.zeros((2 * r + 1, 2 * r + 1), np.float32)
                cv2.circle(kernel, (r, r), r, 1.0, -1, cv2.LINE_AA)
                content = as_u8(cv2.filter2D(content, -1, kernel / kernel.sum()))
            else:
                content = as_u8(cv2.GaussianBlur(content, (0, 0), sigma))
            frames.append(scene.encode(scene.camera(content, optics=0.0), t))
    elif kind == "covered":
        severity = float(rng.uniform(0, 1))
        share = 0.7 + 0.3 * severity
        mask = _cover_mask(rng, w, h, share)[..., None]
        dark = rng.random() < 0.7
        base = float(rng.uniform(10, 70) if dark else rng.uniform(120, 220))
        tint = rng.uniform(0.85, 1.15, 3).astype(np.float32)
        yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None, None]
        leak = float(rng.uniform(8, 25)) * float(rng.choice([-1, 1]))  # light leaking in
        cover = (base + leak * yy) * tint[None, None, :]
        gain = float(rng.uniform(1.0, 4.0))  # cameras raise gain behind a dark cover
        for t in range(n_frames):
            seen = scene.camera(scene.content(t), sensor=0.0)
            img = seen * (1 - mask) + cover * mask
            img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(gain)
            frames.append(scene.encode(img, t))
    elif kind == "colour_cast":
        severity = float(rng.uniform(0, 1))
        strength = 0.25 + 0.35 * severity
        hue = float(rng.uniform(0, 2 * math.pi))
        phases = np.array([0.0, 2 * math.pi / 3, 4 * math.pi / 3], np.float32)
        gains = (1.0 + strength * np.cos(hue - phases)).astype(np.float32)
        for t in range(n_frames):
            frames.append(scene.encode(scene.camera(scene.content(t), gains=gains), t))
    else:  # noise
        severity = float(rng.uniform(0, 1))
        sigma = 10.0 + 20.0 * severity
        luma_only = rng.random() < 0.4
        for t in range(n_frames):
            img = scene.camera(scene.content(t), sensor=sigma, luma_only=luma_only)
            frames.append(scene.encode(img, t))
    return Sample(kind, seed, severity, tuple(frames))


def simulator_like(index: int, seed: int, width: int = WIDTH, height: int = HEIGHT) -> Image:
    """Frame `index` of a camera like `hall-camsim`'s first picture (before its scenes).

    A hard case kept for the diagnosis (dense texture everywhere); the simulator's street
    and square scenes are checked in `scene_samples.py`. Diagonal tinted stripes with a
    slow brightness wave, scrolling two rows per frame, and the stamp strip of capture
    time `index * 40` ms in the top 1/20.
    """
    stripe = (16, 32)[seed % 2]
    angle = (seed * 2.399963) % (2 * math.pi)
    du, dv = 40 * math.cos(angle), 40 * math.sin(angle)
    rows = np.arange(height)[:, None] + 2 * index
    cols = np.arange(width)[None, :]
    light = ((cols + rows) // stripe) % 2 == 1
    wave = np.sin(2 * math.pi * (rows % 128) / 128)
    y = np.where(light, 170 + 40 * wave, 70 + 25 * wave)
    u = np.where(light, 128 + du, 128 - du / 2) * np.ones_like(y)
    v = np.where(light, 128 + dv, 128 - dv / 2) * np.ones_like(y)
    yuv = np.clip(np.dstack([y, v, u]), 0, 255).astype(np.uint8)  # YCrCb order
    strip = strip_height(height)
    edges = cell_edges(width)
    for i, white in enumerate(stamp_cells(1_700_000_000_000 + 40 * index)):
        yuv[:strip, edges[i] : edges[i + 1]] = (Y_WHITE if white else Y_BLACK, 128, 128)
    bgr = cv2.cvtColor(yuv, cv2.COLOR_YCrCb2BGR)
    return jpeg(np.asarray(bgr, dtype=np.uint8), 80)


def dataset(seeds: Sequence[int], kinds: Sequence[str] = KINDS) -> Iterator[Sample]:
    for seed in seeds:
        for kind in kinds:
            yield make_sample(kind, seed)


# ---- scoring -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    fault: Fault
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(results: Sequence[tuple[Sample, Diagnosis]]) -> dict[Fault, Score]:
    out = {}
    for fault in Fault:
        tp = fp = fn = 0
        for sample, diag in results:
            want, got = fault in sample.expected, fault in diag.faults
            tp += want and got
            fp += got and not want
            fn += want and not got
        out[fault] = Score(fault, tp, fp, fn)
    return out


def table(scores: dict[Fault, Score], results: Sequence[tuple[Sample, Diagnosis]]) -> str:
    healthy = [d for s, d in results if s.kind == "healthy"]
    false_alarms = sum(1 for d in healthy if not d.ok)
    lines = [
        "| fault | samples | detected | false alarms | precision | recall |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for fault, s in scores.items():
        lines.append(
            f"| {fault} | {s.tp + s.fn} | {s.tp} | {s.fp} | {s.precision:.3f} | {s.recall:.3f} |"
        )
    lines.append(
        f"| healthy (no fault) | {len(healthy)} | {len(healthy) - false_alarms} | "
        f"{false_alarms} | | |"
    )
    return "\n".join(lines)


# ---- tuning ------------------------------------------------------------------------------


def measures(results: Sequence[tuple[Sample, Diagnosis]]) -> None:
    """Print each fault's measure per kind (min / 5 % / median / 95 % / max)."""
    for fault in Fault:
        print(f"\n{fault}: value per kind (min p5 p50 p95 max), n")
        for kind in KINDS:
            vals = [
                f.value
                for s, d in results
                if s.kind == kind
                for f in d.findings
                if f.fault is fault and f.value is not None
            ]
            if not vals:
                print(f"  {kind:12s} -")
                continue
            q = np.quantile(np.asarray(vals), [0, 0.05, 0.5, 0.95, 1])
            print(f"  {kind:12s} " + " ".join(f"{v:8.3f}" for v in q) + f"  n={len(vals)}")


def suggest(results: Sequence[tuple[Sample, Diagnosis]], fault: Fault, above: bool) -> float:
    """The threshold that best separates `fault` samples from the others (balanced accuracy).

    Only samples where the measure was judged and not suppressed by precedence count as
    negatives. Ties are broken by the widest gap; the threshold sits in its middle.
    """
    pos: list[float] = []
    neg: list[float] = []
    for s, d in results:
        f = d.finding(fault)
        if f.value is None or f.note.startswith("suppressed"):
            continue
        (pos if fault in s.expected else neg).append(f.value)
    vals = sorted(set(pos + neg))
    if not pos or len(vals) < 2:
        return float("nan")
    best: tuple[float, float, float] = (-1.0, 0.0, 0.0)
    p, n = np.asarray(pos), np.asarray(neg)
    for lo, hi in itertools.pairwise(vals):
        mid = (lo + hi) / 2
        tpr = float(np.mean(p >= mid if above else p <= mid))
        tnr = float(np.mean(n < mid if above else n > mid)) if n.size else 1.0
        key = (tpr + tnr, hi - lo, mid)
        if key[:2] > best[:2]:
            best = key
    return best[2]


def run(seeds: Sequence[int], thresholds: QualityThresholds) -> list[tuple[Sample, Diagnosis]]:
    return [(s, diagnose(s.frames, thresholds)) for s in dataset(seeds)]


def speed(thresholds: QualityThresholds, rounds: int = 20) -> float:
    """Median milliseconds of one diagnosis of 3 frames of 704 x 576 (BGR)."""
    samples = [make_sample("healthy", 90_000 + i) for i in range(4)]
    diagnose(samples[0].frames, thresholds)  # warm up
    times = []
    for r in range(rounds):
        t0 = time.perf_counter()
        diagnose(samples[r % len(samples)].frames, thresholds)
        times.append(time.perf_counter() - t0)
    return 1000.0 * float(np.median(times))


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["speed"]:
        print(f"diagnose, 3 frames of 704x576: {speed(load_thresholds(), 50):.1f} ms (median)")
        return 0
    if len(argv) != 3 or argv[0] != "tune":
        print(
            "usage: python -m tests.unit.streams.quality.quality_samples"
            " tune FIRST_SEED END_SEED | speed"
        )
        return 2
    seeds = range(int(argv[1]), int(argv[2]))
    thresholds = load_thresholds()
    results = run(seeds, thresholds)
    measures(results)
    print("\nsuggested thresholds (balanced accuracy on these seeds):")
    directions = {
        Fault.BLACK: ("black_max_luma", False),
        Fault.BLANK: ("blank_max_spread", False),
        Fault.FROZEN: ("frozen_max_diff", False),
        Fault.BLUR: ("blur_min_index", True),
        Fault.COVERED: ("covered_min_share", True),
        Fault.COLOUR_CAST: ("cast_min_ratio", True),
        Fault.NOISE: ("noise_max_sigma", True),
    }
    for fault, (name, above) in directions.items():
        print(f"  {name} = {suggest(results, fault, above):.3f}")
    print("\nwith the current thresholds:")
    print(table(score(results), results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
