"""Wire types of the platforms' camera trees and stream URLs (console ↔ hub).

`PlatformTreesRequest` → `PlatformTreesReply`: every platform's last known cameras, placed
in the county tree, with the note an officer sees when that tree is not current.
`PlatformTreeChanged` (published, with the platforms' own `seq`): one platform's tree after
a refresh that changed it (cameras, placing or note); a console that sees a gap in `seq`
reads the trees again.
`PlatformStreamRequest` → `PlatformStreamReply`: a platform camera's stream URLs, asked of
the platform when the hub's lease expired (or `renew`: the tile's stream failed).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import WireMessage


class PlatformCameraInfo(BaseModel):
    model_config = FROZEN

    id: str
    name: str
    township: str
    village: str | None
    online: bool
    lon: float | None = None
    lat: float | None = None


class PlatformTreeInfo(BaseModel):
    model_config = FROZEN

    platform: str
    cameras: list[PlatformCameraInfo]
    unplaced: int = Field(description="channels no civil code or mapping entry placed")
    loose: list[PlatformCameraInfo] = Field(
        default_factory=list, description="the unplaced channels as cameras (未归属)"
    )
    read_at: float | None = Field(description="wall clock of the last good read")
    note: str | None = Field(description="why the tree is not current (platform down)")


class PlatformTreesRequest(WireMessage):
    type: Literal["platform_trees"] = "platform_trees"
    rid: str = Field(min_length=1, max_length=64)
    token: str


class PlatformTreesReply(WireMessage):
    type: Literal["platform_trees_ok"] = "platform_trees_ok"
    rid: str
    trees: list[PlatformTreeInfo]
    seq: int = Field(default=0, description="the last PlatformTreeChanged's seq")


class PlatformTreeChanged(WireMessage):
    type: Literal["platform_tree_changed"] = "platform_tree_changed"
    seq: int
    tree: PlatformTreeInfo


class PlatformStreamRequest(WireMessage):
    type: Literal["platform_stream"] = "platform_stream"
    rid: str = Field(min_length=1, max_length=64)
    token: str
    camera_id: str = Field(min_length=1, max_length=64)
    renew: bool = Field(default=False, description="the previous URL failed: ask again")
    min_life_s: float = Field(
        default=0.0, ge=0.0, le=3600.0, description="a URL living at least this long"
    )


class PlatformStreamReply(WireMessage):
    type: Literal["platform_stream_ok"] = "platform_stream_ok"
    rid: str
    camera_id: str
    rtsp: str | None
    flv: str | None
    expires_in_s: float = Field(description="ask again before this many seconds pass")
