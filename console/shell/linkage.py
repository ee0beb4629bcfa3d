"""Event ↔ wall coordination: linkage layouts and evidence attached to events.

A small coordinator so that the main window only arranges: it listens to the event
queue controller's `linkage_requested` (a high-priority arrival, a camera alarm, or the
officer's "联动视频") and tells the WallController to show the cameras, says so in the
status bar and offers the way back; it adds "抓拍并附加到事件" / "保存 30 秒并附加到事件"
to the tiles' menus, saves through the WallController and attaches the file to the
selected event through the event queue controller. No I/O of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Literal

from PySide6.QtWidgets import QMenu, QPushButton

from console.events.controller import EventQueueController, LinkageRequest
from console.events.strings import tr
from console.wall.controller import EvidenceResult, WallController
from console.wall.model import Change, ChangeKind

Post = Callable[[Callable[[], None]], None]
ShowMessage = Callable[[str], None]
EvidenceKindName = Literal["snapshot", "clip"]


class LinkageCoordinator:
    def __init__(
        self,
        events: EventQueueController,
        wall: WallController,
        *,
        post: Post,
        show_message: ShowMessage,
    ) -> None:
        self.events = events
        self.wall = wall
        self._post = post
        self._show = show_message
        self.back_button: QPushButton | None = None
        self._unsub: Callable[[], None] | None = None
        self._started = False
        self.last_request: LinkageRequest | None = None

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.events.linkage_requested.connect(self.on_linkage)
        self._unsub = self.wall.model.changed.connect(self._on_wall).disconnect

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self.events.linkage_requested.disconnect(self.on_linkage)
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    def make_back_button(self) -> QPushButton:
        """The status bar's "恢复原布局" button, shown only while a linkage is on the wall."""
        b = QPushButton(tr("linkage.back"))
        b.setObjectName("linkageBack")
        b.clicked.connect(self.restore)
        b.setVisible(self.wall.model.linkage is not None)
        self.back_button = b
        return b

    # ------------------------------------------------------------ linkage
    def on_linkage(self, req: LinkageRequest) -> None:
        self.last_request = req
        shown = self.wall.show_linkage(req.camera_ids, req.title, maximise=req.maximise)
        prefix = tr("linkage.auto") if req.automatic else ""
        if not shown:
            self._show(prefix + tr("linkage.none", title=req.title))
        elif req.maximise:
            self._show(prefix + tr("linkage.alarm", title=req.title))
        else:
            self._show(prefix + tr("linkage.shown", title=req.title, count=len(shown)))

    def restore(self) -> None:
        if self.wall.restore_previous_layout():
            self._show(tr("linkage.restored"))

    def _on_wall(self, change: Change) -> None:
        if self.back_button is not None and change.kind in (
            ChangeKind.LINKAGE,
            ChangeKind.LAYOUT,
            ChangeKind.RESTORED,
        ):
            self.back_button.setVisible(self.wall.model.linkage is not None)

    # ------------------------------------------------------------ evidence
    def extend_tile_menu(self, menu: QMenu, slot: int, live: bool) -> None:
        """For WallView.menu_extenders: the two "…并附加到事件" entries."""
        event_id = self.events.model.selected_id
        suffix = "" if event_id is not None else " " + tr("dispatch.no_event")
        snap = menu.addAction(tr("dispatch.snapshot_attach") + suffix)
        snap.setEnabled(live and event_id is not None)
        snap.triggered.connect(lambda: self.attach_from_slot(slot, "snapshot"))
        clip = menu.addAction(tr("dispatch.clip_attach") + suffix)
        clip.setEnabled(live and event_id is not None)
        clip.triggered.connect(lambda: self.attach_from_slot(slot, "clip"))

    def attach_from_slot(self, slot: int, kind: EvidenceKindName) -> bool:
        """Save a snapshot/clip of the tile and attach it to the event selected now."""
        event_id = self.events.model.selected_id
        if event_id is None:
            self._show(tr("dispatch.no_event"))
            return False
        fut = self.wall.snapshot(slot) if kind == "snapshot" else self.wall.save_clip(slot)
        if fut is None:
            return False
        row = self.events.model.row(event_id)
        title = row.event.title if row else event_id
        self._show(tr("linkage.attaching", kind=tr(f"linkage.kind_{kind}"), title=title))

        def saved(f: Future[EvidenceResult]) -> None:  # on the evidence worker thread
            result = f.result()
            if result.path is None:
                return  # the wall already says why it failed
            path = result.path
            self._post(lambda: self.events.attach_evidence(event_id, kind, path))

        fut.add_done_callback(saved)
        return True


def install_linkage(
    events: EventQueueController,
    wall: WallController,
    *,
    post: Post,
    show_message: ShowMessage,
    add_status_widget: Callable[[QPushButton], None],
    add_menu_extender: Callable[[Callable[[QMenu, int, bool], None]], None],
) -> LinkageCoordinator:
    """Build and start the coordinator, and hand its widgets to the window to arrange."""
    coord = LinkageCoordinator(events, wall, post=post, show_message=show_message)
    add_status_widget(coord.make_back_button())
    add_menu_extender(coord.extend_tile_menu)
    coord.start()
    return coord
