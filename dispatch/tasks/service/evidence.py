"""Evidence attached to events: clips and snapshots the console uploaded (stored in the
evidence folder, see `upload.py`), feedback photos from the phones (checked, stored in
the upload folder); both content-addressed, under names the hub chose. A file is served
only from these two stores, by the attachment's id (`file_for`)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from dispatch.domain.model import AuditEntry
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.hub.writer import Tx
from dispatch.tasks import store as st
from dispatch.tasks.messages import AttachmentInfo
from dispatch.tasks.service.blobs import BlobStore
from dispatch.tasks.service.board import TaskBoard
from dispatch.tasks.service.recorder import TaskRecorder
from dispatch.tasks.uploads import check_photo

PHOTO_ID_PREFIX = "ph-"


def attachment_info(a: st.Attachment) -> AttachmentInfo:
    return AttachmentInfo(
        id=a.id,
        event_id=a.event_id,
        task_id=a.task_id,
        kind=a.kind,
        name=a.name,
        stored=a.blob is not None,
        sha256=a.sha256,
        size=a.size,
        mime=a.mime,
        added_by=a.added_by,
        at=a.at,
        note=a.note,
    )


def check_photos_of_task(tx: Tx, task_id: str, photos: Sequence[str]) -> None:
    """Inside `tx`: every photo id is a stored attachment of the task, else HubError."""
    q = select(st.attachments).where(st.attachments.c.id.in_(list(photos)))
    have = {a.id for a in (st._attachment(r) for r in tx.conn.execute(q)) if a.task_id == task_id}
    missing = [p for p in photos if p not in have]
    if missing:
        raise HubError(ErrorCode.INVALID, f"照片不存在或不属于本任务：{missing[0]}")


@dataclass(frozen=True)
class StoredFile:
    """A file the hub stored for an evidence upload: its name in the evidence store."""

    blob: str
    name: str  # the sender's, display only
    sha256: str
    size: int
    mime: str


class EvidenceService:
    """The attachments of events, cached per event after the first read."""

    def __init__(
        self,
        hub: HubService,
        recorder: TaskRecorder,
        board: TaskBoard,
        upload_dir: Path,
        evidence_dir: Path,
    ) -> None:
        self.hub = hub
        self.recorder = recorder
        self.board = board
        self.photos = BlobStore(upload_dir)
        self.files = BlobStore(evidence_dir)
        self._by_event: dict[str, list[AttachmentInfo]] = {}

    async def of_event(self, event_id: str) -> list[AttachmentInfo]:
        got = self._by_event.get(event_id)
        if got is None:
            engine = self.hub.store.engine
            rows = await asyncio.to_thread(st.attachments_of, engine, event_id=event_id)
            got = [attachment_info(a) for a in rows]
            self._by_event[event_id] = got
        return got

    async def attach(
        self,
        session: Session,
        event_id: str,
        kind: str,
        stored: StoredFile,
        *,
        task_id: str | None = None,
        note: str = "",
    ) -> tuple[AttachmentInfo, int]:
        """An officer attaches a clip or snapshot the hub has stored (a timeline row too)."""
        ev = await self.recorder.event(event_id)
        now = self.hub.clock()
        att = st.Attachment(
            id=f"ev-{secrets.token_hex(8)}",
            event_id=ev.id,
            task_id=task_id,
            kind=kind,
            blob=stored.blob,
            name=stored.name,
            sha256=stored.sha256,
            size=stored.size,
            mime=stored.mime,
            added_by=session.operator,
            at=now,
            note=note,
        )
        label = "录像片段" if kind == "clip" else "快照"
        line = f"附证据（{label}）：{stored.name or stored.blob} SHA-256 {stored.sha256[:12]}…"
        audit = AuditEntry(
            event_id=ev.id,
            at=now,
            operator=session.operator,
            role=session.role,
            workstation=session.workstation,
            action="evidence",
            from_state=ev.state,
            to_state=ev.state,
            note=line + (f" {note}" if note else ""),
        )

        def job(tx: Tx) -> int:
            st.add_attachment(tx.conn, att)
            return self.recorder.record(tx, [], now, session.role, extra_audit=[audit])

        seq = await self.recorder.commit(job)
        info = attachment_info(att)
        self._by_event.setdefault(ev.id, []).append(info)
        # the grid leaders working on the event see it in their task view
        self.board.tell_event(ev.id)
        return info, seq

    async def store_photo(self, person_id: str, task_id: str, data: bytes) -> AttachmentInfo:
        """Check and store a feedback photo; raises `UploadRefused` (nothing stored)."""
        kind = check_photo(data)
        t = self.board.mine(person_id, task_id)
        digest = hashlib.sha256(data).hexdigest()
        pid = f"{PHOTO_ID_PREFIX}{digest[:32]}"
        for a in await self.of_event(t.event_id):
            if a.id == pid:
                return a
        blob = f"{pid}{kind.ext}"
        path = await asyncio.to_thread(self.photos.write, blob, data)
        att = st.Attachment(
            id=pid,
            event_id=t.event_id,
            task_id=t.id,
            kind="photo",
            blob=blob,
            name=blob,
            sha256=digest,
            size=len(data),
            mime=kind.mime,
            added_by=person_id,
            at=self.hub.clock(),
            note="",
        )

        def job(tx: Tx) -> None:
            st.add_attachment(tx.conn, att)

        try:
            await self.recorder.commit(job)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        info = attachment_info(att)
        self._by_event.setdefault(t.event_id, []).append(info)
        return info

    async def file_for(self, person_id: str, att_id: str) -> tuple[AttachmentInfo, Path] | None:
        """An attachment the person may see (of an event they have an open task for) and
        its file in the hub's own store; None if there is no such attachment or file."""
        rows = await asyncio.to_thread(st.attachments_of, self.hub.store.engine, ids=[att_id])
        if not rows:
            return None
        a = rows[0]
        if not any(
            t.event_id == a.event_id and t.assignee == person_id for t in self.board.open_tasks()
        ):
            return None
        store = self.photos if a.kind == "photo" else self.files
        path = await asyncio.to_thread(store.path_of, a.blob)
        return (attachment_info(a), path) if path is not None else None
