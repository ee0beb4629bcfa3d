"""A reporter's full phone or ID number, for the roles allowed to see it, audited.

Everything the hub sends to clients carries the reporter's numbers masked. An operator
whose role is in `REVEAL_ROLES` may ask for one whole number of one event, giving a
reason; the answer is written in one transaction with an audit row (`reveal_audit`:
who, role, workstation, when, event, field, reason) and a line in the event's timeline
("查看完整联系电话：<reason>", published masked like every change). A refused request
is audited too (granted false), without a timeline line.
"""

from __future__ import annotations

from dispatch.domain.model import AuditEntry
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events import store as es
from dispatch.events.service import HubService
from dispatch.hub.auth import REVEAL_ROLES, Session
from dispatch.hub.writer import Tx

REVEAL_ACTION = "reveal"
FIELD_LABELS = {"phone": "联系电话", "id_number": "身份证号"}


class Revealer:
    def __init__(self, hub: HubService) -> None:
        self.hub = hub

    async def reveal(
        self, session: Session, event_id: str, field: str, reason: str
    ) -> tuple[str, int]:
        """(the whole number, the seq of its timeline change); `HubError` FORBIDDEN for a
        role that may not see it, NOT_FOUND for no such event or no such number."""
        if field not in FIELD_LABELS:
            raise HubError(ErrorCode.INVALID, f"unknown field {field!r}")
        reason = reason.strip()
        if len(reason) < 2:
            raise HubError(ErrorCode.INVALID, "请说明查看完整号码的理由 / a reason is required")
        now = self.hub.clock()
        row = es.RevealRow(
            event_id=event_id,
            field=field,
            operator=session.operator,
            role=session.role.value,
            workstation=session.workstation,
            reason=reason,
            granted=session.role in REVEAL_ROLES,
            at=now,
        )
        if not row.granted:

            def refused(tx: Tx) -> None:
                self.hub.event_in(tx, event_id)
                es.add_reveal(tx.conn, row)

            await self.hub.commit(refused)
            raise HubError(
                ErrorCode.FORBIDDEN,
                "只有带班领导和管理员可以查看完整号码 / only supervisors and admins may see it",
            )

        def granted(tx: Tx) -> tuple[str, int]:
            ev = self.hub.event_in(tx, event_id)
            value = str(getattr(ev.reporter, field))
            if not value:
                raise HubError(ErrorCode.NOT_FOUND, f"该事件没有{FIELD_LABELS[field]}")
            es.add_reveal(tx.conn, row)
            entry = AuditEntry(
                event_id=ev.id,
                at=now,
                operator=session.operator,
                role=session.role,
                workstation=session.workstation,
                action=REVEAL_ACTION,
                from_state=ev.state,
                to_state=ev.state,
                note=f"查看完整{FIELD_LABELS[field]}：{reason}",
            )
            return value, self.hub.append_timeline(tx, ev, [entry], now)

        return await self.hub.commit(granted)
