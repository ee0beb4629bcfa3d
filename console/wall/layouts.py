"""Named wall layouts and the last-used one, kept as JSON in the config folder.

The file is written atomically (temp file + rename). A damaged file is never
overwritten: `load()` moves it aside to `layouts.json.damaged-<n>` and reports
where, so the officer's saved layouts can still be recovered by hand.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.wall.model import MAX_SLOTS, WallState
from console.wall.shapes import SHAPES

FILE_NAME = "layouts.json"
VERSION = 1


class LayoutFileError(Exception):
    """The layouts file cannot be used; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    last: WallState | None
    named: dict[str, WallState]
    moved_aside: Path | None = None  # where a damaged file was kept
    error: str | None = None


def state_to_json(state: WallState) -> dict[str, Any]:
    return {
        "shape": state.shape,
        "assignments": {str(k): v for k, v in sorted(state.assignments.items())},
        "status_visible": state.status_visible,
        "page": state.page,
    }


def state_from_json(data: object, where: str) -> WallState:
    """Parse one layout; raises LayoutFileError naming `where` and the bad field."""
    if not isinstance(data, dict):
        raise LayoutFileError(f"{where}: expected an object")
    unknown = set(data) - {"shape", "assignments", "status_visible", "page"}
    if unknown:
        raise LayoutFileError(f"{where}.{sorted(unknown)[0]}: unknown field")
    shape_name = data.get("shape", "9")
    if shape_name not in SHAPES:
        raise LayoutFileError(f"{where}.shape: unknown layout {shape_name!r}")
    raw = data.get("assignments", {})
    if not isinstance(raw, dict):
        raise LayoutFileError(f"{where}.assignments: expected an object")
    assignments: dict[int, str] = {}
    for key, cam in raw.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) < MAX_SLOTS):
            raise LayoutFileError(f"{where}.assignments.{key}: not a slot number")
        if not isinstance(cam, str) or not cam:
            raise LayoutFileError(f"{where}.assignments.{key}: expected a camera id")
        assignments[int(key)] = cam
    visible = data.get("status_visible", True)
    if not isinstance(visible, bool):
        raise LayoutFileError(f"{where}.status_visible: expected true or false")
    page = data.get("page", 0)
    if not isinstance(page, int) or isinstance(page, bool) or page < 0:
        raise LayoutFileError(f"{where}.page: expected a page number ≥ 0")
    return WallState(shape_name, assignments, visible, page)


class LayoutStore:
    """Reads and writes `<folder>/layouts.json`. No I/O until a method is called."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self._last: WallState | None = None
        self._named: dict[str, WallState] = {}

    def load(self) -> LoadResult:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return LoadResult(None, {})
        except OSError as exc:
            raise LayoutFileError(f"{self.path}: cannot read: {exc.strerror}") from None
        try:
            last, named = self._parse(text)
        except LayoutFileError as exc:
            aside = self._move_aside()
            return LoadResult(None, {}, aside, str(exc))
        self._last, self._named = last, named
        return LoadResult(last, dict(named))

    def _parse(self, text: str) -> tuple[WallState | None, dict[str, WallState]]:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LayoutFileError(f"{self.path}: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise LayoutFileError(f"{self.path}: expected a JSON object")
        if data.get("version") != VERSION:
            raise LayoutFileError(f"{self.path}: version: expected {VERSION}")
        last_raw = data.get("last")
        last = None if last_raw is None else state_from_json(last_raw, f"{self.path}: last")
        named_raw = data.get("named", {})
        if not isinstance(named_raw, dict):
            raise LayoutFileError(f"{self.path}: named: expected an object")
        named = {
            str(k): state_from_json(v, f"{self.path}: named.{k}") for k, v in named_raw.items()
        }
        return last, named

    def _move_aside(self) -> Path:
        n = 1
        while True:
            target = self.path.with_name(f"{FILE_NAME}.damaged-{n}")
            if not target.exists():
                self.path.replace(target)
                return target
            n += 1

    def names(self) -> list[str]:
        return sorted(self._named)

    def get(self, name: str) -> WallState:
        return self._named[name]

    def last(self) -> WallState | None:
        return self._last

    def save_named(self, name: str, state: WallState) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a layout needs a name")
        self._named[name] = state
        self._write()

    def delete(self, name: str) -> None:
        if self._named.pop(name, None) is not None:
            self._write()

    def save_last(self, state: WallState) -> None:
        self._last = state
        self._write()

    def _write(self) -> None:
        data = {
            "version": VERSION,
            "last": None if self._last is None else state_to_json(self._last),
            "named": {k: state_to_json(v) for k, v in sorted(self._named.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)
