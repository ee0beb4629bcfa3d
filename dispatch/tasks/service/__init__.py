"""The hub's dispatch service (派单), one concept per module.

- `dispatch`: `DispatchService`, the face: dispatch, officers' and phones' task steps;
- `recorder`: the one transaction of a task change (task, history, timeline, seq);
- `board`: the open tasks, the push outbox and the phones listening;
- `escalation`: the escalation timers and the run that moves overdue tasks up;
- `evidence`: attachments (clips, snapshots, feedback photos);
- `links`: personal phone links, PINs, lockout and sessions;
- `people`: the site's people by id.
"""

from dispatch.tasks.service.dispatch import DispatchService

__all__ = ["DispatchService"]
