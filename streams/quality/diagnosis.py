"""Video quality diagnosis of a camera's picture: pure OpenCV/numpy over a few samples.

`diagnose(frames, thresholds)` looks at a few sampled frames of one camera (BGR, BGRA or
grey, any size, padded rows allowed) and judges six faults: black or blank picture,
frozen picture, blur, covered lens, abnormal colour cast and heavy noise. Every fault
comes back as a `Finding` with the measured value, its threshold and a score (the value
relative to the threshold: 1.0 or more means the fault), so the UI can show why.

All measures are taken on a working copy scaled down to `working_width` pixels (never
up) with the top `ignore_top` share of the picture left out (the simulator's stamp strip
and many cameras' OSD line change on every frame). The methods, and how the thresholds
in `resources/quality.toml` were tuned, are in docs/quality.md.

Precedence: a black or blank picture is not judged for anything else (a black picture
is trivially "frozen", "blurred" and "covered"); behind a covered lens the scene is not
judged for freezing, blur or colour cast (the cover is static, smooth and has its own
colour). Noise is judged on every picture that is not black or blank.

`diagnose` does no I/O; `load_thresholds` reads the TOML file.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

MIN_SIDE = 16  # smallest frame side accepted, in pixels
GRID_COLS = 8  # covered-lens block grid over the (tiny) picture
GRID_ROWS = 6
BLOCK = 8  # pixels per block side in the tiny picture (so the tiny picture is 64 x 48)
SCORE_CAP = 99.0
LOWER_HALF_RESIDUAL = 0.218  # mean of the smaller half of |x - median3x3(x)|, noise sigma 1
REBLUR = 9  # side of the re-blur box filter of the blur measure (Crete et al. 2007)
EDGE_SHARE = 0.2  # blur: strong edges have a gradient of at least this share of the 99th pct


class Fault(StrEnum):
    BLACK = "black"
    BLANK = "blank"
    FROZEN = "frozen"
    BLUR = "blur"
    COVERED = "covered"
    COLOUR_CAST = "colour_cast"
    NOISE = "noise"


FAULT_LABELS_ZH: dict[Fault, str] = {
    Fault.BLACK: "黑屏",
    Fault.BLANK: "纯色画面",
    Fault.FROZEN: "画面冻结",
    Fault.BLUR: "画面模糊",
    Fault.COVERED: "镜头遮挡",
    Fault.COLOUR_CAST: "偏色",
    Fault.NOISE: "噪声过大",
}


class QualityConfigError(ValueError):
    """A thresholds file that cannot be used; the message names the file and the field."""


class QualityThresholds(BaseModel):
    """Thresholds of the diagnosis (defaults in resources/quality.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    working_width: int = Field(
        320, ge=64, le=1920, description="width in pixels the samples are scaled down to"
    )
    ignore_top: float = Field(
        0.06,
        ge=0.0,
        le=0.5,
        description="share of the picture height at the top left out of every measure "
        "(the simulator's stamp strip is the top 1/20)",
    )
    black_max_luma: float = Field(
        ...,
        ge=0.0,
        le=255.0,
        description="black: the 95th percentile of luma (0-255) is at most this",
    )
    blank_max_spread: float = Field(
        ...,
        ge=0.0,
        le=255.0,
        description="blank: luma spread (95th minus 5th percentile) is at most this",
    )
    frozen_max_diff: float = Field(
        ...,
        ge=0.0,
        le=255.0,
        description="frozen: mean absolute luma difference of every consecutive pair of "
        "samples is at most this",
    )
    blur_min_index: float = Field(
        ...,
        gt=0.0,
        lt=1.0,
        description="blur: blur index (0 sharp .. 1 fully blurred) is at least this",
    )
    blur_min_edge: float = Field(
        ...,
        ge=0.0,
        description="blur is judged only if the strongest edges (99th percentile of the "
        "luma gradient, levels per pixel) reach this (a plain flat scene is not blur)",
    )
    covered_block_std: float = Field(
        ...,
        gt=0.0,
        description="covered: a block of the 64x48 picture with a luma standard deviation "
        "below this has no texture",
    )
    covered_min_share: float = Field(
        ...,
        gt=0.0,
        le=1.0,
        description="covered: the share of blocks without texture is at least this",
    )
    cast_min_ratio: float = Field(
        ...,
        gt=0.0,
        description="colour cast: mean chroma distance from grey over the chroma spread "
        "(Lab a/b) is at least this",
    )
    cast_min_offset: float = Field(
        ...,
        ge=0.0,
        description="colour cast is judged only if the mean chroma is at least this far "
        "from grey (Lab units)",
    )
    noise_max_sigma: float = Field(
        ...,
        gt=0.0,
        description="heavy noise: estimated noise standard deviation (luma levels, at the "
        "working width) is at least this",
    )


def parse_thresholds(data: dict[str, object], source: str = "<thresholds>") -> QualityThresholds:
    try:
        return QualityThresholds.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {loc}: {err['msg']}")
        raise QualityConfigError(
            f"{source}: invalid quality thresholds\n" + "\n".join(lines)
        ) from None


def default_thresholds_path() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "quality.toml"


def load_thresholds(path: str | Path | None = None) -> QualityThresholds:
    """Read thresholds from a TOML file (the defaults in resources/quality.toml if None)."""
    p = default_thresholds_path() if path is None else Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise QualityConfigError(f"{p}: cannot read thresholds file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise QualityConfigError(f"{p}: not valid TOML: {exc}") from None
    return parse_thresholds(data, str(p))


@dataclass(frozen=True, slots=True)
class Finding:
    """One fault's verdict.

    `value` is the measure (None when it could not be judged, `note` says why); `score`
    is the value relative to `threshold` in the fault's direction, capped at 99: 1.0 or
    more means at or beyond the threshold. A suppressed finding keeps its value and score
    but is not `detected` (`note` names the fault that suppressed it).
    """

    fault: Fault
    detected: bool
    value: float | None
    threshold: float
    score: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    findings: tuple[Finding, ...]  # one per Fault, in Fault order
    frames: int
    working_size: tuple[int, int]  # (width, height) of the measured region

    @property
    def faults(self) -> tuple[Fault, ...]:
        return tuple(f.fault for f in self.findings if f.detected)

    @property
    def ok(self) -> bool:
        return not self.faults

    def finding(self, fault: Fault) -> Finding:
        for f in self.findings:
            if f.fault is fault:
                return f
        raise KeyError(fault)  # pragma: no cover - findings cover every Fault


# ---- pure helpers: one measure each ------------------------------------------------------

Gray = npt.NDArray[np.float32]
Image = npt.NDArray[np.uint8]


def _check_frame(i: int, frame: object) -> Image:
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"quality: frame {i} is {type(frame).__name__}, not a numpy array")
    if frame.dtype != np.uint8:
        raise ValueError(f"quality: frame {i} has dtype {frame.dtype}, need uint8")
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise ValueError(
            f"quality: frame {i} has shape {frame.shape}, need (h, w), (h, w, 3) or (h, w, 4)"
        )
    h, w = frame.shape[:2]
    if h < MIN_SIDE or w < MIN_SIDE:
        raise ValueError(f"quality: frame {i} is {w}x{h}, need at least {MIN_SIDE}x{MIN_SIDE}")
    return frame


def working_size(width: int, height: int, working_width: int) -> tuple[int, int]:
    """The size samples are measured at: scaled down to `working_width`, never up."""
    if width <= working_width:
        return width, height
    return working_width, max(MIN_SIDE, round(height * working_width / width))


@dataclass(frozen=True, slots=True)
class _Sample:
    gray: Gray  # float32 luma 0..255, top band removed
    bgr: Image | None  # uint8 colour, top band removed; None for grey input


def _prepare(frame: Image, size: tuple[int, int], ignore_top: float) -> _Sample:
    channels = 1 if frame.ndim == 2 else frame.shape[2]
    if channels == 4:
        luma = cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    elif channels == 3:
        luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    else:
        luma = frame.reshape(frame.shape[0], frame.shape[1])
    full = (frame.shape[1], frame.shape[0])
    interp = cv2.INTER_AREA if size != full else cv2.INTER_LINEAR
    gray = luma.astype(np.float32)
    if size != full:
        gray = np.asarray(cv2.resize(gray, size, interpolation=interp), dtype=np.float32)
    top = round(size[1] * ignore_top)
    bgr: Image | None = None
    if channels in (3, 4):
        small = frame if size == full else cv2.resize(frame, size, interpolation=interp)
        if channels == 4:
            small = cv2.cvtColor(small, cv2.COLOR_BGRA2BGR)
        bgr = np.ascontiguousarray(small[top:])
    return _Sample(np.ascontiguousarray(gray[top:]), bgr)


def luma_percentiles(gray: Gray) -> tuple[float, float]:
    """(5th, 95th) percentile of luma."""
    hist = cv2.calcHist([gray], [0], None, [256], [0.0, 256.0]).ravel()
    cum = np.cumsum(hist) / max(float(hist.sum()), 1.0)
    p5 = float(np.searchsorted(cum, 0.05))
    p95 = float(np.searchsorted(cum, 0.95))
    return p5, p95


def textureless_share(gray: Gray, block_std: float) -> float:
    """Share of blocks of a 64x48 copy whose luma standard deviation is below `block_std`.

    Scaling to 64x48 averages pixel noise away, so what remains is structure at the scale
    of a few per cent of the picture: a lens covered by a hand, a bag or paint has none.
    """
    tiny = cv2.resize(gray, (GRID_COLS * BLOCK, GRID_ROWS * BLOCK), interpolation=cv2.INTER_AREA)
    blocks = tiny.reshape(GRID_ROWS, BLOCK, GRID_COLS, BLOCK)
    std = blocks.std(axis=(1, 3))
    return float(np.count_nonzero(std < block_std)) / int(std.size)


def _gradient(gray: Gray) -> Gray:
    """Magnitude of the forward-difference gradient (one row and column shorter)."""
    dx = gray[:-1, 1:] - gray[:-1, :-1]
    dy = gray[1:, :-1] - gray[:-1, :-1]
    return np.asarray(np.hypot(dx, dy), dtype=np.float32)


def edge_and_blur(gray: Gray) -> tuple[float, float]:
    """(strength of the strongest edges, blur index 0..1).

    The blur index follows Crete et al. (2007), "The blur effect": re-blur the picture
    with a 9 x 9 box filter and see how much of the gradient it removes. At a sharp edge
    the gradient is concentrated and the re-blur removes most of it (index near 0); at an
    already blurred edge it removes little (index near 1). It does not depend on the
    contrast of the scene. Two changes to the paper: the gradient magnitude instead of
    separate rows and columns (diagonal edges are not penalised), and only the strong
    edges count (gradient at least a fifth of its 99th percentile), so smooth lighting
    gradients and flat areas, which no focus can sharpen, do not read as blur. The edge
    strength (that 99th percentile, luma levels per pixel) says whether there is
    anything to judge: a plain flat scene has no edges and is not blur.
    """
    d = _gradient(gray)
    strength = float(np.quantile(d, 0.99))
    if strength <= 0.0:
        return 0.0, 1.0
    db = _gradient(np.asarray(cv2.blur(gray, (REBLUR, REBLUR)), dtype=np.float32))
    strong = d >= EDGE_SHARE * strength
    s_f = float(d[strong].sum())
    s_v = float(np.maximum(d - db, 0.0)[strong].sum())
    return strength, (s_f - s_v) / s_f


def noise_sigma(gray: Gray) -> float:
    """Noise standard deviation from the residual of a 3 x 3 median filter.

    A median filter keeps straight edges and flat or gently sloped areas and removes
    pixel noise, so its residual is mostly noise. Only the smaller half of the absolute
    residuals is used (their mean, which unlike their median is not stuck on whole
    levels in an 8-bit picture), so corners, thin lines and fine texture do not pull the
    estimate up as long as they cover less than half of the picture. For white Gaussian
    noise that mean is `LOWER_HALF_RESIDUAL` times sigma (measured; the tests check it). A
    Laplacian-like residual was tried first and read the simulator's dense diagonal
    stripes as noise.
    """
    residual = cv2.absdiff(gray, cv2.medianBlur(gray, 3))[1:-1, 1:-1].ravel()
    half = residual.size // 2
    lower = np.partition(residual, half)[:half]
    return float(lower.mean()) / LOWER_HALF_RESIDUAL


def chroma_cast(bgr: Image) -> tuple[float, float] | None:
    """(distance of the mean Lab a/b from grey, that distance over the a/b spread).

    Pixels too dark or too bright to carry colour are left out; None if fewer than 5 %
    remain. The ratio is the cast factor of Xu et al. (equivalent circle): a picture whose
    colours all lean one way has a mean far from grey relative to its spread.
    """
    lab = cv2.cvtColor(bgr.astype(np.float32) * np.float32(1.0 / 255.0), cv2.COLOR_BGR2Lab)
    lightness = lab[..., 0]
    mask = (lightness > 8.0) & (lightness < 97.0)
    n = int(np.count_nonzero(mask))
    if n < 0.05 * mask.size:
        return None
    a = lab[..., 1][mask]
    b = lab[..., 2][mask]
    offset = math.hypot(float(a.mean()), float(b.mean()))
    spread = math.hypot(float(a.std()), float(b.std()))
    return offset, offset / max(spread, 1e-3)


def frame_difference(a: Gray, b: Gray) -> float:
    """Mean absolute luma difference of two samples."""
    return float(cv2.absdiff(a, b).mean())


def _score_above(value: float, threshold: float) -> float:
    """Score of a measure that is a fault at or above `threshold`."""
    if threshold <= 0:
        return SCORE_CAP if value > 0 else 1.0
    return min(SCORE_CAP, value / threshold)


def _score_below(value: float, threshold: float) -> float:
    """Score of a measure that is a fault at or below `threshold`."""
    if value <= 0:
        return SCORE_CAP if threshold > 0 else 1.0
    return min(SCORE_CAP, threshold / value)


def _finding(
    fault: Fault,
    value: float | None,
    threshold: float,
    *,
    above: bool,
    note: str = "",
    suppressed_by: Fault | None = None,
) -> Finding:
    if value is None:
        return Finding(fault, False, None, threshold, 0.0, note)
    score = _score_above(value, threshold) if above else _score_below(value, threshold)
    hit = value >= threshold if above else value <= threshold
    if suppressed_by is not None:
        return Finding(fault, False, value, threshold, score, f"suppressed by {suppressed_by}")
    return Finding(fault, hit, value, threshold, score, note)


def _median(values: Sequence[float]) -> float:
    return float(np.median(np.asarray(values, dtype=np.float64)))


@dataclass(frozen=True, slots=True)
class _Measures:
    """Each sample's measures, in sample order (colour casts only where there is colour)."""

    p5s: list[float]
    p95s: list[float]
    shares: list[float]
    edges: list[float]
    blurs: list[float]
    sigmas: list[float]
    casts: list[tuple[float, float]]


def _measure(samples: Sequence[_Sample], t: QualityThresholds) -> _Measures:
    m = _Measures([], [], [], [], [], [], [])
    for s in samples:
        p5, p95 = luma_percentiles(s.gray)
        m.p5s.append(p5)
        m.p95s.append(p95)
        m.shares.append(textureless_share(s.gray, t.covered_block_std))
        edge_step, blur_index = edge_and_blur(s.gray)
        m.edges.append(edge_step)
        m.blurs.append(blur_index)
        m.sigmas.append(noise_sigma(s.gray))
        if s.bgr is not None:
            cast_pair = chroma_cast(s.bgr)
            if cast_pair is not None:
                m.casts.append(cast_pair)
    return m


def _judge_frozen(
    samples: Sequence[_Sample], t: QualityThresholds, suppressed_by: Fault | None
) -> Finding:
    if len(samples) < 2:
        return _finding(
            Fault.FROZEN, None, t.frozen_max_diff, above=False, note="needs two samples"
        )
    diff = max(frame_difference(a.gray, b.gray) for a, b in itertools.pairwise(samples))
    return _finding(Fault.FROZEN, diff, t.frozen_max_diff, above=False, suppressed_by=suppressed_by)


def _judge_blur(m: _Measures, t: QualityThresholds, suppressed_by: Fault | None) -> Finding:
    edge = _median(m.edges)
    if edge < t.blur_min_edge:
        return _finding(
            Fault.BLUR,
            None,
            t.blur_min_index,
            above=True,
            note=f"no edges to judge (edge strength {edge:.2f} < {t.blur_min_edge})",
        )
    return _finding(
        Fault.BLUR, _median(m.blurs), t.blur_min_index, above=True, suppressed_by=suppressed_by
    )


def _judge_cast(m: _Measures, t: QualityThresholds, suppressed_by: Fault | None) -> Finding:
    if not m.casts:
        return _finding(
            Fault.COLOUR_CAST, None, t.cast_min_ratio, above=True, note="no colour to judge"
        )
    offset = _median([c[0] for c in m.casts])
    ratio = _median([c[1] for c in m.casts])
    if offset < t.cast_min_offset:
        return Finding(
            Fault.COLOUR_CAST,
            False,
            ratio,
            t.cast_min_ratio,
            _score_above(ratio, t.cast_min_ratio),
            f"mean chroma {offset:.1f} from grey < {t.cast_min_offset}",
        )
    return _finding(
        Fault.COLOUR_CAST, ratio, t.cast_min_ratio, above=True, suppressed_by=suppressed_by
    )


def diagnose(frames: Sequence[Image], thresholds: QualityThresholds) -> Diagnosis:
    """Judge a few samples of one camera (oldest first) for every `Fault`.

    Per-picture measures are the median over the samples; frozen needs at least two.
    Raises ValueError/TypeError naming the frame for anything that is not a uint8 picture.
    """
    if len(frames) == 0:
        raise ValueError("quality: no frames to diagnose")
    checked = [_check_frame(i, f) for i, f in enumerate(frames)]
    t = thresholds
    h0, w0 = checked[0].shape[:2]
    size = working_size(w0, h0, t.working_width)
    samples = [_prepare(f, size, t.ignore_top) for f in checked]
    m = _measure(samples, t)

    p95 = _median(m.p95s)
    spread = _median([hi - lo for lo, hi in zip(m.p5s, m.p95s, strict=True)])
    black = _finding(Fault.BLACK, p95, t.black_max_luma, above=False)
    blank = _finding(
        Fault.BLANK,
        spread,
        t.blank_max_spread,
        above=False,
        suppressed_by=Fault.BLACK if black.detected else None,
    )
    dead: Fault | None = Fault.BLACK if black.detected else Fault.BLANK if blank.detected else None
    covered = _finding(
        Fault.COVERED, _median(m.shares), t.covered_min_share, above=True, suppressed_by=dead
    )
    hidden = Fault.COVERED if covered.detected else None  # the scene is behind the cover
    frozen = _judge_frozen(samples, t, dead or hidden)
    blur = _judge_blur(m, t, dead or hidden)
    cast = _judge_cast(m, t, dead or hidden)
    noise = _finding(
        Fault.NOISE, _median(m.sigmas), t.noise_max_sigma, above=True, suppressed_by=dead
    )
    h_work = samples[0].gray.shape[0]
    return Diagnosis(
        findings=(black, blank, frozen, blur, covered, cast, noise),
        frames=len(samples),
        working_size=(size[0], h_work),
    )
