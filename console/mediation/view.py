"""The mediation window (Qt view): invite form → join links (text, PIN, expiry, QR, copy),
participants' video tiles with who is speaking, lobby admit / remove, record on/off, and
the outcome form that ends the session. It draws the model and calls the controller."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.mediation.controller import MediationController
from console.mediation.model import (
    DEFAULT_INVITES,
    OUTCOME_NAMES,
    ROLE_NAMES,
    MediationInputError,
    MediationModel,
    PeerView,
    expiry_text,
    join_url,
    make_invites,
)
from console.mediation.preview import SELF_KEY, SELF_TITLE
from console.mediation.qr import qr_image

TILE_W, TILE_H = 320, 240
SELF_W, SELF_H = 160, 120


class VideoTile(QWidget):
    """One participant's picture, painted 1:1 from BGRA (QImage.Format_RGB32)."""

    def __init__(
        self, pid: str, parent: QWidget | None = None, size: tuple[int, int] = (TILE_W, TILE_H)
    ) -> None:
        super().__init__(parent)
        self.pid = pid
        self.tw, self.th = size
        self.setFixedSize(self.tw, self.th)
        self.image: npt.NDArray[np.uint8] | None = None
        self.title = ""
        self.speaking = False
        self.note = "等待画面…"
        self.frames = 0

    def show_frame(self, arr: npt.NDArray[np.uint8]) -> None:
        self.image = arr
        self.frames += 1
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(16, 20, 28))
        arr = self.image
        if arr is not None:
            h, w = arr.shape[:2]
            img = QImage(arr.data, w, h, int(arr.strides[0]), QImage.Format.Format_RGB32)
            p.drawImage((self.tw - w) // 2, (self.th - h) // 2, img)
        else:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.note)
        p.fillRect(0, self.th - 24, self.tw, 24, QColor(0, 0, 0, 150))
        p.setPen(QColor(255, 255, 255))
        text = ("【发言】" if self.speaking else "") + self.title
        p.drawText(8, self.th - 7, text)
        if self.speaking:
            p.setPen(QPen(QColor(60, 220, 90), 4))
            p.drawRect(2, 2, self.tw - 4, self.th - 4)
        p.end()


class LinkCard(QFrame):
    """One invite's link: role and name, URL, PIN, expiry, QR code, copy button."""

    def __init__(self, title: str, url: str, pin: str, expires: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.url, self.pin = url, pin
        self.qr = QLabel()
        self.qr.setPixmap(QPixmap.fromImage(qr_image(url, 3)))
        shown = "<br>".join(url[i : i + 36] for i in range(0, len(url), 36))
        self.text = QLabel(f"<b>{title}</b><br>{shown}<br>PIN：<b>{pin}</b><br>{expires}")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setWordWrap(True)
        self.copy_button = QPushButton("复制链接和 PIN")
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
        self.setWindowTitle(f"远程视频调解 — {model.event_title or model.event_id}")
        self.resize(1360, 860)
        self.tiles: dict[str, VideoTile] = {}
        self.link_cards: list[LinkCard] = []
        self.peer_rows: dict[str, tuple[QWidget, QPushButton, QPushButton]] = {}

        # invite form
        self.invite_box = QFrame()
        form = QGridLayout(self.invite_box)
        form.addWidget(QLabel("<b>邀请参与人</b>"), 0, 0, 1, 3)
        self.invite_rows: list[tuple[QCheckBox, QComboBox, QLineEdit]] = []
        for i, (role, name) in enumerate(DEFAULT_INVITES, 1):
            check = QCheckBox()
            check.setChecked(True)
            combo = QComboBox()
            for key, label in ROLE_NAMES.items():
                combo.addItem(label, key)
            combo.setCurrentIndex(list(ROLE_NAMES).index(role))
            edit = QLineEdit(name)
            edit.setPlaceholderText("姓名")
            form.addWidget(check, i, 0)
            form.addWidget(combo, i, 1)
            form.addWidget(edit, i, 2)
            self.invite_rows.append((check, combo, edit))
        self.open_button = QPushButton("开启调解并生成链接")
        self.open_button.clicked.connect(self.open_session)
        form.addWidget(self.open_button, len(DEFAULT_INVITES) + 1, 0, 1, 3)

        # links
        self.links_box = QWidget()
        self.links_layout = QVBoxLayout(self.links_box)
        self.links_layout.setContentsMargins(0, 0, 0, 0)
        links_scroll = QScrollArea()
        links_scroll.setWidgetResizable(True)
        links_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        links_scroll.setWidget(self.links_box)

        # tiles
        self.tiles_box = QWidget()
        self.tiles_grid = QGridLayout(self.tiles_box)
        self.tiles_grid.setSpacing(6)
        self.tiles_grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        # the hall's own picture (what it sends) and the connection state
        self.self_tile = VideoTile(SELF_KEY, size=(SELF_W, SELF_H))
        self.self_tile.title = SELF_TITLE
        self.self_tile.note = "本端画面"
        self.conn_label = QLabel("")
        self.conn_label.setObjectName("mediationConn")

        # participants, recording, outcome
        self.peers_box = QWidget()
        self.peers_layout = QVBoxLayout(self.peers_box)
        self.peers_layout.setContentsMargins(0, 0, 0, 0)
        self.lobby_label = QLabel("")
        self.record_button = QPushButton("开始录像")
        self.record_button.setCheckable(True)
        self.record_button.setEnabled(False)
        self.record_button.clicked.connect(lambda: self.controller.record(not self.model.recording))
        self.rec_label = QLabel("")
        self.rec_label.setStyleSheet("color: #e33; font-weight: bold;")
        self.outcome = QComboBox()
        self.outcome.addItem("— 调解结果 —", "")
        for key, label in OUTCOME_NAMES.items():
            self.outcome.addItem(label, key)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("协议要点 / 备注")
        self.notes.setFixedHeight(70)
        self.close_button = QPushButton("结束调解并归档")
        self.close_button.setEnabled(False)
        self.close_button.clicked.connect(self.close_session)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("mediationStatus")

        side = QVBoxLayout()
        side.addWidget(self.invite_box)
        side.addWidget(links_scroll, 1)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>参与人</b>"))
        right.addWidget(self.peers_box)
        right.addWidget(self.lobby_label)
        rec_row = QHBoxLayout()
        rec_row.addWidget(self.record_button)
        rec_row.addWidget(self.rec_label, 1)
        right.addLayout(rec_row)
        right.addStretch(1)
        right.addWidget(QLabel("<b>调解结果</b>"))
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

        self.model.listeners.append(self._on_model)
        self.controller.frame_sinks.append(self._on_frame)
        self.expiry_timer = QTimer(self)
        self.expiry_timer.setInterval(30_000)
        self.expiry_timer.timeout.connect(self._show_links)
        self._on_model("phase")

    # -- actions ---------------------------------------------------------------------------
    def invite_values(self) -> list[tuple[bool, str, str]]:
        return [(c.isChecked(), str(r.currentData()), e.text()) for c, r, e in self.invite_rows]

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
                for t in self.tiles.values():
                    t.note = "调解已结束"
        if kind == "conn":
            conn = self.model.conn
            bad = conn.startswith("连接中断")
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
            self.record_button.setText("停止录像" if rec else "开始录像")
            self.rec_label.setText("● 录像中" if rec else "")

    def _show_links(self) -> None:
        for card in self.link_cards:
            card.setParent(None)
            card.deleteLater()
        self.link_cards = []
        now = self._now.now().astimezone()
        for link in self.model.links:
            card = LinkCard(
                f"{link.label} {link.name}",
                join_url(self.controller.http_url, link.path),
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
                self.tiles[p.id].title = f"{p.label} {p.name}" + ("" if p.audio else "（静音）")
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
            state = "在线" if p.online else "离线"
            if p.online and not p.admitted:
                state = "等候准入"
            label = QLabel(f"{p.label} {p.name} · {state}")
            admit = QPushButton("准入")
            admit.setVisible(p.online and not p.admitted)
            admit.clicked.connect(lambda _c=False, pid=p.id: self.controller.admit(pid))
            remove = QPushButton("移出")
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
        self.lobby_label.setText(f"候场 {n} 人，请核对身份后准入" if n else "")

    def _on_frame(self, pid: str, arr: npt.NDArray[np.uint8]) -> None:
        tile = self.self_tile if pid == SELF_KEY else self.tiles.get(pid)
        if tile is not None:
            tile.show_frame(arr)

    def shutdown(self) -> None:
        self.expiry_timer.stop()
        self.controller.stop()
