"""Screen or document sharing from the meeting console (共享): what the officer may share
and the grabbing that feeds it into the room.

- a window of the screen: `list_windows()` names the X11 top-level windows (`xwininfo`,
  Debian's x11-utils) and `QScreen.grabWindow(id)` grabs one; the whole screen is the
  root window;
- a PDF page: rendered once by `pdftoppm` (Debian's poppler-utils, which the project
  installs for its reports' tests already; PySide6-Essentials has no QtPdf).

`ShareFeeder` (Qt thread) grabs the choice a few times a second, fits it in 1280×720 and
puts it into the `LatestFrameTrack` the console's Janus peer publishes as its share
(`JanusPeer.start_share`). A grab that fails (the window closed) keeps the last picture.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication, QImage

from streams.webrtc.share_track import LatestFrameTrack

MAX_SIZE = (1280, 720)
Run = Callable[..., subprocess.CompletedProcess[str]]
_WINDOW = re.compile(r'^\s+(0x[0-9a-f]+) "(.+)": \(.*\)\s+(\d+)x(\d+)', re.M)


@dataclass(frozen=True)
class ShareChoice:
    kind: Literal["window", "screen", "pdf"]
    name: str  # what the console shows: 正在共享：<name>
    wid: int = 0
    path: Path | None = None
    page: int = 1


def list_windows(run: Run = subprocess.run, min_size: int = 64) -> list[ShareChoice]:
    """The named top-level windows of the X display (none when there is no xwininfo)."""
    try:
        out = run(
            ["xwininfo", "-root", "-children"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for wid, name, w, h in _WINDOW.findall(out):
        if int(w) >= min_size and int(h) >= min_size:
            found.append(ShareChoice("window", name, wid=int(wid, 16)))
    return found


def pdf_pages(path: Path, run: Run = subprocess.run) -> int:
    """How many pages the PDF has (`pdfinfo`); 0 when it is not a PDF it can read."""
    try:
        out = run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    m = re.search(r"^Pages:\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else 0


def fit(rgb: np.ndarray, size: tuple[int, int] = MAX_SIZE) -> np.ndarray:
    """The picture scaled down (never up) to fit in `size`, its proportions kept."""
    h, w = rgb.shape[:2]
    k = min(size[0] / w, size[1] / h, 1.0)
    if k >= 1.0:
        return rgb
    size_k = (max(2, round(w * k)), max(2, round(h * k)))
    return cv2.resize(rgb, size_k, interpolation=cv2.INTER_AREA)


def render_pdf_page(path: Path, page: int, size: tuple[int, int] = MAX_SIZE) -> np.ndarray:
    """One page of a PDF as RGB, fitted in `size` (`pdftoppm`). Raises ValueError when
    the page cannot be rendered."""
    with tempfile.TemporaryDirectory(prefix="hall-share-") as tmp:
        out = Path(tmp) / "page"
        cmd = ["pdftoppm", "-png", "-r", "150", "-f", str(page), "-l", str(page)]
        cmd += ["-singlefile", str(path), str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        png = out.with_suffix(".png")
        if done.returncode != 0 or not png.exists():
            raise ValueError(f"{path.name} p.{page}: {done.stderr.strip()[:200]}")
        with Image.open(png) as img:
            rgb = np.asarray(img.convert("RGB"))
    return fit(rgb, size)


def qimage_rgb(img: QImage) -> np.ndarray:
    """A QImage as an RGB array (a copy)."""
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def grab_window(wid: int) -> np.ndarray | None:
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return None
    pix = screen.grabWindow(wid)
    if pix.isNull() or pix.width() < 2 or pix.height() < 2:
        return None
    return fit(qimage_rgb(pix.toImage()))


class ShareFeeder(QObject):
    """Grabs the choice `fps` times a second into `track` (a PDF page once)."""

    def __init__(self, choice: ShareChoice, track: LatestFrameTrack, fps: float = 5.0) -> None:
        super().__init__()
        self.choice = choice
        self.track = track
        self.grabs = 0
        self._timer = QTimer(self)
        self._timer.setInterval(max(20, round(1000 / fps)))
        self._timer.timeout.connect(self.grab)

    def start(self) -> None:
        """The first picture now (a PDF page: the only one); a window or the screen
        again on every tick. Raises ValueError for a page that cannot be rendered."""
        if self.choice.kind == "pdf":
            assert self.choice.path is not None
            self.track.put(render_pdf_page(self.choice.path, self.choice.page))
            return
        self.grab()
        self._timer.start()

    def grab(self) -> None:
        rgb = grab_window(self.choice.wid)
        if rgb is not None:
            self.track.put(rgb)
            self.grabs += 1

    def stop(self) -> None:
        self._timer.stop()
