"""Evidence uploads from the console: bytes in order, SHA-256 checked, stored by the hub.

`begin` opens an upload for an operator (a private `.part` file in the evidence store),
`chunk` appends the next bytes (hashing as they come), `finish` checks size, SHA-256 and
the file's type (a snapshot is PNG or JPEG, a clip MP4, by its first bytes) and keeps it
as `<sha256>.<ext>`; anything wrong removes the part and stores nothing. Only the
operator who began an upload may continue it. Uploads idle for `idle_s` are dropped;
at most `max_open` are open at once. File work runs off the loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.auth import Session
from dispatch.tasks.service.blobs import BlobStore
from dispatch.tasks.service.evidence import StoredFile
from dispatch.tasks.uploads import EVIDENCE_CHUNK_BYTES, display_name, sniff_evidence


@dataclass
class _Upload:
    operator: str
    event_id: str
    kind: str
    name: str
    sha256: str
    size: int
    task_id: str | None
    note: str
    part: Path
    touched: float
    received: int = 0
    head: bytes = b""
    hasher: Any = field(default_factory=hashlib.sha256)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _append(part: Path, data: bytes) -> None:
    with open(part, "ab") as f:
        f.write(data)


def _invalid(message: str) -> HubError:
    return HubError(ErrorCode.INVALID, message)


@dataclass(frozen=True)
class Finished:
    """A stored upload and what the console asked to attach it to."""

    event_id: str
    kind: str
    stored: StoredFile
    task_id: str | None
    note: str


class EvidenceUploads:
    def __init__(
        self,
        store: BlobStore,
        *,
        max_open: int = 16,
        idle_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.max_open = max_open
        self.idle_s = idle_s
        self._clock = clock
        self._open: dict[str, _Upload] = {}

    def __len__(self) -> int:
        return len(self._open)

    async def begin(
        self,
        session: Session,
        event_id: str,
        kind: str,
        *,
        name: str,
        sha256: str,
        size: int,
        task_id: str | None = None,
        note: str = "",
    ) -> str:
        """A new upload's id (the console sends its bytes with it)."""
        await self._drop_idle()
        if len(self._open) >= self.max_open:
            raise HubError(ErrorCode.CONFLICT, "同时上传的证据太多，请稍后再试 / too many uploads")
        part = await asyncio.to_thread(self.store.part)
        upload_id = f"up-{secrets.token_hex(12)}"
        self._open[upload_id] = _Upload(
            session.operator,
            event_id,
            kind,
            display_name(name),
            sha256,
            size,
            task_id,
            note,
            part,
            self._clock(),
        )
        return upload_id

    def _mine(self, session: Session, upload_id: str) -> _Upload:
        up = self._open.get(upload_id)
        if up is None or up.operator != session.operator:
            raise HubError(ErrorCode.NOT_FOUND, f"没有这个上传 / no upload {upload_id!r}")
        return up

    async def chunk(self, session: Session, upload_id: str, offset: int, data_b64: str) -> int:
        """Append the next bytes; how many were received so far."""
        up = self._mine(session, upload_id)
        try:
            data = base64.b64decode(data_b64, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("证据数据不是 base64 / chunk is not base64") from None
        async with up.lock:
            if upload_id not in self._open:
                raise HubError(ErrorCode.NOT_FOUND, f"上传已结束 / upload {upload_id!r} is over")
            if offset != up.received:
                raise HubError(
                    ErrorCode.CONFLICT, f"offset {offset}: expected {up.received} (in order)"
                )
            if not data or len(data) > EVIDENCE_CHUNK_BYTES or up.received + len(data) > up.size:
                await self._drop(upload_id)
                raise _invalid("证据数据超出声明的大小 / more bytes than announced")
            await asyncio.to_thread(_append, up.part, data)
            up.hasher.update(data)
            if len(up.head) < 16:
                up.head = (up.head + data)[:16]
            up.received += len(data)
            up.touched = self._clock()
            return up.received

    async def finish(self, session: Session, upload_id: str) -> Finished:
        """Check and keep the upload; on any fault it is dropped and `HubError` raised."""
        up = self._mine(session, upload_id)
        async with up.lock:
            self._open.pop(upload_id, None)
            try:
                return await self._keep(up)
            except BaseException:
                await asyncio.to_thread(up.part.unlink, True)
                raise

    async def _keep(self, up: _Upload) -> Finished:
        if up.received != up.size:
            raise _invalid(f"证据不完整：收到 {up.received} / {up.size} 字节 / incomplete")
        if up.hasher.hexdigest() != up.sha256:
            raise _invalid("SHA-256 校验不符，证据未保存 / SHA-256 does not match, not stored")
        kind = sniff_evidence(up.kind, up.head)
        if kind is None:
            want = "PNG 或 JPEG 图片" if up.kind == "snapshot" else "MP4 录像"
            raise _invalid(f"文件不是{want}，未保存 / not a {up.kind} file")
        blob = f"{up.sha256}{kind.ext}"
        await asyncio.to_thread(self.store.keep, up.part, blob)
        stored = StoredFile(blob, up.name, up.sha256, up.size, kind.mime)
        return Finished(up.event_id, up.kind, stored, up.task_id, up.note)

    async def _drop(self, upload_id: str) -> None:
        up = self._open.pop(upload_id, None)
        if up is not None:
            await asyncio.to_thread(up.part.unlink, True)

    async def _drop_idle(self) -> None:
        limit = self._clock() - self.idle_s
        for uid in [u for u, up in self._open.items() if up.touched < limit]:
            await self._drop(uid)

    async def close(self) -> None:
        """Drop every open upload (the hub stops)."""
        for uid in list(self._open):
            await self._drop(uid)
