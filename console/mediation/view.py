"""The mediation window (Qt view): invite form (`invite_form.InviteForm`) → join links
(text, PIN, expiry, QR, copy), participants' video tiles with who is speaking, lobby
admit / remove, record on/off, and the outcome form that ends the session. It draws the
model and calls the controller."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.kit.i18n import tr
from console.kit.picture import CaptionStyle, PictureWidget
from console.kit.plain import escape, plain_label, rich_label
from console.kit.qt_observe import follow
from console.mediation.controller import MediationController, PeerFrame
from console.mediation.invite_form import InviteForm, heading
from console.mediation.model import (
    MediationInputError,
    MediationModel,
    PeerView,
    expiry_text,
    join_url,
    make_invites,
)
from console.mediation.preview import SELF_KEY
from console.mediation.qr import qr_image
from console.mediation.strings import OUTCOMES, outcome_name, role_label, t

TILE_W, TILE_H = 320, 240
SELF_W, SELF_H = 160, 120
TILE_CAPTION = CaptionStyle(height=24, left=8, baseline=7, always=True)


class VideoTile(PictureWidget):
    """One participant's picture (the kit's picture widget), with who is speaking."""

    def __init__(
        self, pid: str, parent: QWidget | None = None, size: tuple[int, int] = (TILE_W, TILE_H)
    ) -> None:
        super().__init__(parent, caption_style=TILE_CAPTION)
        self.pid = pid
        self.tw, self.th = size
        self.setFixedSize(self.tw, self.th)
        self.note = t("waiting")

    @property
    def title(self) -> str:
        return self.caption

    @title.setter
    def title(self, text: str) -> None:
        self.caption = text

    def caption_text(self) -> str:
        return (t("speaking_mark") if self.speaking else "") + self.caption


class LinkCard(QFrame):
    """One invite's link: role and name, URL, PIN, expiry, QR code, copy button."""

    def __init__(self, title: str, url: str, pin: str, expires: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.url, self.pin = url, pin
        self.qr = plain_label()
        self.qr.setPixmap(QPixmap.fromImage(qr_image(url, 3)))
        shown = "<br>".join(escape(url[i : i + 36]) for i in range(0, len(url), 36))
        self.text = rich_label(
            f"<b>{escape(title)}</b><br>{shown}<br>{escape(t('link_pin'))}<b>{escape(pin)}</b>"
            f"<br>{escape(expires)}"
        )
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setWordWrap(True)
        self.copy_button = QPushButton(t("copy"))
        self.copy_button.clicked.connect(self.copy)
        col = QVBoxLayout()
        col.addWidget(self.text)
        col.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignLeft)
        row = QHBoxLayout(self)
        row.addWidget(self.qr)
        row.addLayout(col, 1)

    def copy_text(self) -> str:
        return f"{self.url}  PIN {self.pin}"

    def copy(self) -> None:
        cb = QGuiApplication.clipboard()
        if cb is not None:
            cb.setText(self.copy_text())


class MediationWindow(QWidget):
    def __init__(
        self,
        model: MediationModel,
        controller: MediationController,
        *,
        now: type[datetime] = datetime,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.controller = controller
        self._now = now
        self.setWindowTitle(t("window_title", title=model.event_title or model.event_id))
        self.resize(1360, 860)
        self.tiles: dict[str, VideoTile] = {}
        self.link_cards: list[LinkCard] = []
        self.peer_rows: dict[str, tuple[QWidget, QPushButton, QPushButton]] = {}
        self._build_invite_form()
        links_scroll = self._build_links()
        self._build_centre()
        self._build_session_side()
        self._arrange(links_scroll)
        follow(self, self.model.changed, self._on_model)
        follow(self, self.controller.frame_shown, self._on_frame)
        self.expiry_timer = QTimer(self)
        self.expiry_timer.setInterval(30_000)
        self.expiry_timer.timeout.connect(self._show_links)
        self._on_model("phase")

    # -- construction ----------------------------------------------------------------------
    def _build_invite_form(self) -> None:
        self.invite_box = InviteForm()
        self.open_button = self.invite_box.open_button
        self.open_button.clicked.connect(self.open_session)

    @property
    def invite_rows(self) -> list[tuple[QCheckBox, QComboBox, QLineEdit]]:
        """(tick, role, name) widgets of the invite form's rows, in order."""
        return [(r.check, r.role, r.name) for r in self.invite_box.rows]

    def _build_links(self) -> QScrollArea:
        self.links_box = QWidget()
        self.links_layout = QVBoxLayout(self.links_box)
        self.links_layout.setContentsMargins(0, 0, 0, 0)
        links_scroll = QScrollArea()
        links_scroll.setWidgetResizable(True)
        links_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        links_scroll.setWidget(self.links_box)
        return links_scroll

    def _build_centre(self) -> None:
        """The participants' tiles, the hall's own picture and the connection state."""
        self.tiles_box = QWidget()
        self.tiles_grid = QGridLayout(self.tiles_box)
        self.tiles_grid.setSpacing(6)
        self.tiles_grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.self_tile = VideoTile(SELF_KEY, size=(SELF_W, SELF_H))
        self.self_tile.title = tr("self.title")
        self.self_tile.note = t("self_note")
        self.conn_label = plain_label("")
        self.conn_label.setObjectName("mediationConn")
        self.status = plain_label("")
        self.status.setWordWrap(True)
        self.status.setObjectName("mediationStatus")

    def _build_session_side(self) -> None:
        """Participants, recording and the outcome form."""
        self.peers_box = QWidget()
        self.peers_layout = QVBoxLayout(self.peers_box)
        self.peers_layout.setContentsMargins(0, 0, 0, 0)
        self.lobby_label = plain_label("")
        self.record_button = QPushButton(t("act.record"))
        self.record_button.setCheckable(True)
        self.record_button.setEnabled(False)
        self.record_button.clicked.connect(lambda: self.controller.record(not self.model.recording))
        self.rec_label = plain_label("")
        self.rec_label.setStyleSheet("color: #e33; font-weight: bold;")
        self.outcome = QComboBox()
        self.outcome.addItem(t("pick_outcome"), "")
        for key in OUTCOMES:
            self.outcome.addItem(outcome_name(key), key)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText(t("notes"))
        self.notes.setFixedHeight(70)
        self.close_button = QPushButton(t("close"))
        self.close_button.setEnabled(False)
        self.close_button.clicked.connect(self.close_session)

    def _arrange(self, links_scroll: QScrollArea) -> None:
        side = QVBoxLayout()
        side.addWidget(self.invite_box)
        side.addWidget(links_scroll, 1)
        right = QVBoxLayout()
        right.addWidget(heading(t("participants")))
        right.addWidget(self.peers_box)
        right.addWidget(self.lobby_label)
        rec_row = QHBoxLayout()
        rec_row.addWidget(self.record_button)
        rec_row.addWidget(self.rec_label, 1)
        right.addLayout(rec_row)
        right.addStretch(1)
        right.addWidget(heading(t("outcome")))
        right.addWidget(self.outcome)
        right.addWidget(self.notes)
        right.addWidget(self.close_button)
        centre = QVBoxLayout()
        top = QHBoxLayout()
        top.addWidget(self.self_tile)
        top.addWidget(self.conn_label, 1, Qt.AlignmentFlag.AlignBottom)
        centre.addLayout(top)
        centre.addWidget(self.tiles_box, 1)
        centre.addWidget(self.status)
        main = QHBoxLayout(self)
        side_w, right_w = QWidget(), QWidget()
        side_w.setLayout(side)
        side_w.setFixedWidth(380)
        right_w.setLayout(right)
        right_w.setFixedWidth(300)
        main.addWidget(side_w)
        main.addLayout(centre, 1)
        main.addWidget(right_w)

    # -- actions ---------------------------------------------------------------------------
    def invite_values(self) -> list[tuple[bool, str, str]]:
        return self.invite_box.values()

    def open_session(self) -> None:
        try:
            invites = make_invites(self.invite_values())
        except MediationInputError as exc:
            self.model.say(str(exc))
            return
        self.controller.open(invites)

    def close_session(self) -> None:
        self.controller.close(str(self.outcome.currentData()), self.notes.toPlainText())

    # -- model → widgets -------------------------------------------------------------------
    def _on_model(self, kind: str) -> None:
        if kind in ("phase", "message"):
            phase = self.model.phase
            self.status.setText(self.model.message)
            self.invite_box.setEnabled(phase in ("setup", "failed"))
            live = phase == "open"
            self.close_button.setEnabled(live)
            self.record_button.setEnabled(live)
            if phase == "closed":
                for tile in self.tiles.values():
                    tile.note = t("msg.ended")
        if kind == "conn":
            conn = self.model.conn
            bad = conn == t("conn.lost")
            self.conn_label.setText(conn)
            self.conn_label.setStyleSheet(
                "color: #e33; font-weight: bold;" if bad else "color: #2e8b57; font-weight: bold;"
            )
        if kind == "links":
            self._show_links()
            self.expiry_timer.start()
        if kind == "participants":
            self._show_peers()
        if kind == "levels":
            speaking = set(self.model.speaking())
            for pid, tile in self.tiles.items():
                if tile.speaking != (pid in speaking):
                    tile.speaking = pid in speaking
                    tile.update()
        if kind == "recording":
            rec = self.model.recording
            self.record_button.setChecked(rec)
            self.record_button.setText(t("act.stop_record" if rec else "act.record"))
            self.rec_label.setText(t("recording") if rec else "")

    def _show_links(self) -> None:
        for card in self.link_cards:
            card.setParent(None)
            card.deleteLater()
        self.link_cards = []
        now = self._now.now().astimezone()
        for link in self.model.links:
            card = LinkCard(
                f"{role_label(link.role, link.label)} {link.name}",
                join_url(self.controller.join_base, link.path),
                link.pin,
                expiry_text(link.expires_at, now),
            )
            self.links_layout.addWidget(card)
            self.link_cards.append(card)
        self.links_layout.addStretch(1)

    def _show_peers(self) -> None:
        others = [p for p in self.model.others() if not p.host]
        wanted = {p.id for p in others if p.admitted and p.online}
        for pid in list(self.tiles):
            if pid not in wanted:
                tile = self.tiles.pop(pid)
                tile.setParent(None)
                tile.deleteLater()
        for p in others:
            if p.id in wanted and p.id not in self.tiles:
                tile = VideoTile(p.id)
                self.tiles[p.id] = tile
                self.controller.set_tile_size(p.id, TILE_W, TILE_H)
            if p.id in self.tiles:
                muted = "" if p.audio else t("muted")
                self.tiles[p.id].title = f"{role_label(p.role, p.label)} {p.name}{muted}"
        for i, tile in enumerate(self.tiles.values()):
            self.tiles_grid.addWidget(tile, i // 3, i % 3)
        for p in others:
            self.controller.set_tile_size(p.id, TILE_W, TILE_H)
        self._peer_list(others)

    def _peer_list(self, others: list[PeerView]) -> None:
        for box, _a, _r in self.peer_rows.values():
            box.setParent(None)
            box.deleteLater()
        self.peer_rows = {}
        for p in others:
            state = t("online") if p.online else t("offline")
            if p.online and not p.admitted:
                state = t("lobby_state")
            label = plain_label(f"{role_label(p.role, p.label)} {p.name} · {state}")
            admit = QPushButton(t("act.admit"))
            admit.setVisible(p.online and not p.admitted)
            admit.clicked.connect(lambda _c=False, pid=p.id: self.controller.admit(pid))
            remove = QPushButton(t("act.remove"))
            remove.clicked.connect(lambda _c=False, pid=p.id: self.controller.remove(pid))
            box = QWidget()
            row = QHBoxLayout(box)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(label, 1)
            row.addWidget(admit)
            row.addWidget(remove)
            self.peers_layout.addWidget(box)
            self.peer_rows[p.id] = (box, admit, remove)
        n = len(self.model.lobby())
        self.lobby_label.setText(t("lobby", n=n) if n else "")

    def _on_frame(self, frame: PeerFrame) -> None:
        tile = self.self_tile if frame.pid == SELF_KEY else self.tiles.get(frame.pid)
        if tile is not None:
            tile.show_frame(frame.image)

    def shutdown(self) -> None:
        self.expiry_timer.stop()
        self.controller.stop()
