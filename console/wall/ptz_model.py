"""What the wall shows of PTZ cameras, Qt-free: which cameras have PTZ, who holds each,
whether it is mine, the last error, the presets. Emits the camera id on change; the
view repaints that camera's tiles. Touched on the Qt thread only (the controller posts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from console.kit.observable import Observable
from streams.ptz.types import Preset


@dataclass(frozen=True, slots=True)
class PtzTileState:
    camera_id: str
    holder: str | None = None  # who holds it (None: free)
    mine: bool = False
    error: str = ""
    presets: tuple[Preset, ...] = ()


def linked_presets(
    links: Sequence[tuple[str, str, str]], places: Sequence[str | None]
) -> list[tuple[str, str]]:
    """(camera, preset) of the site's `ptz_links` (place, camera, preset) for an alarm at
    any of `places` (its village and grid), each camera once (the first link wins)."""
    out: dict[str, str] = {}
    for place, camera, preset in links:
        if place in places and camera not in out:
            out[camera] = preset
    return list(out.items())


class PtzModel:
    def __init__(self, cameras: list[str]) -> None:
        self._states = {c: PtzTileState(c) for c in cameras}
        self.changed: Observable[str] = Observable()

    def state(self, camera_id: str | None) -> PtzTileState | None:
        """None for a camera without PTZ."""
        return self._states.get(camera_id) if camera_id is not None else None

    def _put(self, camera_id: str, **fields: object) -> None:
        old = self._states.get(camera_id)
        if old is None:
            return
        new = replace(old, **fields)  # type: ignore[arg-type]
        if new != old:
            self._states[camera_id] = new
            self.changed.emit(camera_id)

    def set_holds(self, holders: dict[str, str], me: str) -> None:
        """Every camera's holder now (camera id → operator); `me`: this console's operator."""
        for cam in self._states:
            who = holders.get(cam)
            self._put(cam, holder=who, mine=who is not None and who == me)

    def set_error(self, camera_id: str, error: str) -> None:
        self._put(camera_id, error=error)

    def set_presets(self, camera_id: str, presets: list[Preset]) -> None:
        self._put(camera_id, presets=tuple(presets))
