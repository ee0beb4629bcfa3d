"""The videoroom requests the hub's engine makes, on one `JanusSession` handle.

Each method is one synchronous videoroom request (Janus answers "success" at once);
errors come as the typed exceptions of `streams.webrtc.janus_api` (`PluginError` with
videoroom's code: 426 no such room, 427 room exists, 433 unauthorized, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.webrtc.janus_api import JanusSession, JsonObj

NO_SUCH_ROOM = 426
ROOM_EXISTS = 427


@dataclass(frozen=True)
class RoomSpec:
    """Everything a room is made of: recreating it after a Janus restart uses the same."""

    room: int
    pin: str
    secret: str
    title: str
    max_publishers: int
    record_dir: Path | None
    allowed: tuple[str, ...]
    record: bool = True  # with record_dir: recording now (enable_recording turns it)


class Videoroom:
    """Admin requests on one attached videoroom handle."""

    def __init__(self, session: JanusSession, handle: int, admin_key: str) -> None:
        self.session = session
        self.handle = handle
        self.admin_key = admin_key

    async def _ask(self, body: JsonObj) -> JsonObj:
        data, _ = await self.session.request(self.handle, body)
        return data

    async def create(self, spec: RoomSpec) -> None:
        body: dict[str, Any] = {
            "request": "create",
            "admin_key": self.admin_key,
            "room": spec.room,
            "permanent": False,
            "description": spec.title[:100],
            "secret": spec.secret,
            "pin": spec.pin,
            "is_private": True,
            "allowed": list(spec.allowed),
            "publishers": spec.max_publishers,
            "bitrate": 1_500_000,
            "fir_freq": 5,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "audiolevel_ext": True,
            "audiolevel_event": True,
            "audio_active_packets": 50,
            "audio_level_average": 40,
            "notify_joining": True,
        }
        if spec.record_dir is not None:
            body["record"] = spec.record
            body["rec_dir"] = str(spec.record_dir)
            body["lock_record"] = True
        await self._ask(body)

    async def destroy(self, room: int, secret: str) -> None:
        await self._ask({"request": "destroy", "room": room, "secret": secret})

    async def enable_recording(self, room: int, secret: str, on: bool) -> None:
        await self._ask(
            {"request": "enable_recording", "room": room, "secret": secret, "record": on}
        )

    async def exists(self, room: int) -> bool:
        return bool((await self._ask({"request": "exists", "room": room})).get("exists"))

    async def allowed(self, room: int, secret: str, action: str, tokens: list[str]) -> None:
        body: JsonObj = {"request": "allowed", "room": room, "secret": secret, "action": action}
        if action in ("add", "remove"):
            body["allowed"] = tokens
        await self._ask(body)

    async def moderate(self, room: int, secret: str, feed: int, mid: str, mute: bool) -> None:
        body = {"request": "moderate", "room": room, "secret": secret, "id": feed}
        await self._ask({**body, "mid": mid, "mute": mute})

    async def kick(self, room: int, secret: str, feed: int) -> None:
        await self._ask({"request": "kick", "room": room, "secret": secret, "id": feed})

    async def list_participants(self, room: int) -> list[JsonObj]:
        data = await self._ask({"request": "listparticipants", "room": room})
        ps = data.get("participants")
        return [p for p in ps if isinstance(p, dict)] if isinstance(ps, list) else []
