"""The county console's meeting window: the meetings on the left (new, open, end,
cancel), in the middle the main speaker large with the status line ("已入会 18/20，未入会：
王家庄村…") and who speaks, under it every invited township as a small tile (name,
speaking indicator; click: give it the floor; menu: unmute, remove), and the moderation
buttons (mute all, take the floor back, lock), sharing (共享…: a window of the screen, the
whole screen or a page of a PDF; "正在共享：…" and 停止共享 while on), the raised hands and
the minutes.

The window observes `MeetingsModel` and sends intents to `MeetingsController`; it does
no I/O. Its strings follow the language switch."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.kit import i18n
from console.kit.items import Cell, CellLike, ListFiller
from console.kit.plain import plain_label
from console.kit.qt_observe import follow, release_on_destroy
from console.meetings.controller import MeetingsController
from console.meetings.model import HALL, MeetingsModel, hands_line, speaking_line, status_line
from console.meetings.share import ShareChoice, list_windows, pdf_pages
from console.meetings.strings import t
from console.meetings.tiles import PictureBox, TileBox
from dispatch.domain.calendar import CHINA_TZ
from dispatch.meetings.messages import InviteeInfo

COLUMNS = 5


class NewMeetingDialog(QDialog):
    def __init__(self, centres: list[InviteeInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(t("new"))
        form = QFormLayout(self)
        self.title = QLineEdit()
        self.title.setMaxLength(100)
        self.minutes = QSpinBox()
        self.minutes.setRange(0, 7 * 24 * 60)
        self.minutes.setValue(10)
        self.agenda = QPlainTextEdit()
        self.invite = QListWidget()
        for c in centres:
            item = QListWidgetItem(c.name if c.level == "township" else f"　{c.name}")
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            check = Qt.CheckState.Checked if c.level == "township" else Qt.CheckState.Unchecked
            item.setCheckState(check)
            self.invite.addItem(item)
        form.addRow(t("form.title"), self.title)
        form.addRow(t("form.start"), self.minutes)
        form.addRow(t("form.agenda"), self.agenda)
        form.addRow(t("form.invite"), self.invite)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)

    def invited(self) -> list[str]:
        out = []
        for i in range(self.invite.count()):
            item = self.invite.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out


class MeetingsWindow(QWidget):
    def __init__(
        self, model: MeetingsModel, controller: MeetingsController, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.controller = controller
        self.setObjectName("meetings")
        self.resize(1400, 860)
        self._build()
        follow(self, model.changed, lambda _v: self.refresh())
        follow(self, model.picture, self._on_picture)
        release_on_destroy(self, i18n.on_change(self.retranslate))
        self.retranslate()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        root = QHBoxLayout(self)
        left = QVBoxLayout()
        self.list = QListWidget()
        self._rows = ListFiller(self.list)  # refilled in place (console.kit.items)
        self.list.setMaximumWidth(300)
        self.list.currentItemChanged.connect(self._on_selected)
        self.btn_new = QPushButton()
        self.btn_new.clicked.connect(self._new_meeting)
        self.btn_open = QPushButton()
        self.btn_open.clicked.connect(self.controller.open_meeting)
        self.btn_end = QPushButton()
        self.btn_end.clicked.connect(self.controller.end_meeting)
        self.btn_cancel = QPushButton()
        self.btn_cancel.clicked.connect(self.controller.cancel_meeting)
        left.addWidget(self.list)
        for b in (self.btn_new, self.btn_open, self.btn_end, self.btn_cancel):
            left.addWidget(b)
        root.addLayout(left)
        mid = QVBoxLayout()
        self.title = plain_label()
        self.title.setStyleSheet("font-size: 20px; font-weight: bold;")
        self.status = plain_label()
        self.status.setObjectName("statusLine")
        self.status.setWordWrap(True)
        self.speaking = plain_label()
        self.main = PictureBox()
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(6)
        self.tiles: list[TileBox] = []
        for w in (self.title, self.status, self.speaking):
            mid.addWidget(w)
        mid.addWidget(self.main, 3)
        mid.addWidget(self.grid_host, 2)
        bar = QHBoxLayout()
        self.btn_mute_all = QPushButton()
        self.btn_mute_all.clicked.connect(self.controller.mute_all)
        self.btn_take = QPushButton()
        self.btn_take.clicked.connect(lambda: self.controller.give_floor(None))
        self.btn_lock = QPushButton()
        self.btn_lock.clicked.connect(self._toggle_lock)
        self.btn_share = QPushButton()
        self.share_menu = QMenu(self)
        self.share_menu.aboutToShow.connect(self._fill_share_menu)
        self.btn_share.setMenu(self.share_menu)
        self.btn_stop_share = QPushButton()
        self.btn_stop_share.clicked.connect(self.controller.stop_share)
        self.sharing = plain_label()
        self.sharing.setObjectName("sharing")
        self.sharing.setStyleSheet("color: #1f618d; font-weight: bold;")
        for b in (self.btn_mute_all, self.btn_take, self.btn_lock, self.btn_share):
            bar.addWidget(b)
        bar.addWidget(self.sharing)
        bar.addWidget(self.btn_stop_share)
        self.hands = plain_label()
        self.hands.setObjectName("hands")
        self.hands.setStyleSheet("color: #d68910; font-weight: bold;")
        bar.addWidget(self.hands, 1)
        mid.addLayout(bar)
        self.message = plain_label()
        mid.addWidget(self.message)
        root.addLayout(mid, 1)
        right = QVBoxLayout()
        self.minutes_label = plain_label()
        self.minutes = QPlainTextEdit()
        self.minutes.setMaximumWidth(320)
        self.btn_minutes = QPushButton()
        self.btn_minutes.clicked.connect(
            lambda: self.controller.save_minutes(self.minutes.toPlainText())
        )
        right.addWidget(self.minutes_label)
        right.addWidget(self.minutes)
        right.addWidget(self.btn_minutes)
        root.addLayout(right)

    def retranslate(self) -> None:
        self.setWindowTitle(t("window_title"))
        self.btn_new.setText(t("new"))
        self.btn_open.setText(t("open"))
        self.btn_end.setText(t("end"))
        self.btn_cancel.setText(t("cancel"))
        self.btn_mute_all.setText(t("mute_all"))
        self.btn_take.setText(t("take_floor"))
        self.btn_share.setText(t("share"))
        self.btn_stop_share.setText(t("stop_share"))
        self.minutes_label.setText(t("minutes"))
        self.btn_minutes.setText(t("save_minutes"))
        self.refresh()

    # -- the model --------------------------------------------------------------------------
    def refresh(self) -> None:
        m = self.model.current
        self._fill_list()
        for b in (self.btn_open, self.btn_cancel):
            b.setEnabled(m is not None and m.status == "planned")
        for b in (self.btn_end, self.btn_mute_all, self.btn_take, self.btn_lock):
            b.setEnabled(m is not None and m.status == "open")
        self.btn_lock.setText(t("unlock") if m is not None and m.locked else t("lock"))
        self.message.setText(self.model.message)
        joined = m is not None and m.status == "open" and self.model.joined == m.id
        self.btn_share.setEnabled(joined)
        sharing = self.model.sharing
        self.sharing.setText(t("sharing", name=sharing) if sharing else "")
        self.sharing.setVisible(bool(sharing))
        self.btn_stop_share.setVisible(bool(sharing))
        if m is None:
            self.title.setText(t("no_meeting"))
            for w in (self.status, self.speaking, self.hands):
                w.setText("")
            self._fill_tiles()
            return
        self.title.setText(m.title)
        self.status.setText(status_line(m))
        self.speaking.setText(speaking_line(m))
        self.hands.setText(hands_line(m))
        if not self.minutes.hasFocus() and self.minutes.toPlainText() != m.minutes:
            self.minutes.setPlainText(m.minutes)
        self._fill_tiles()
        self._show_main()

    def _fill_list(self) -> None:
        self.list.blockSignals(True)
        meetings = sorted(self.model.meetings.values(), key=lambda x: x.start_at)
        rows: list[CellLike] = []
        for m in meetings:
            start = m.start_at.astimezone(CHINA_TZ).strftime("%m-%d %H:%M")
            text = t("meeting_row", start=start, title=m.title, status=t(f"status.{m.status}"))
            rows.append(Cell(text, data=m.id))
        self._rows.fill(rows)
        picked = [i for i, m in enumerate(meetings) if m.id == self.model.selected]
        self.list.setCurrentRow(picked[0] if picked else -1)
        self.list.blockSignals(False)

    def _fill_tiles(self) -> None:
        tiles = self.model.tiles()
        while len(self.tiles) < len(tiles):
            box = TileBox(self.controller.give_floor, self._tile_menu)
            n = len(self.tiles)
            self.grid.addWidget(box, n // COLUMNS, n % COLUMNS)
            self.tiles.append(box)
        for i, box in enumerate(self.tiles):
            box.setVisible(i < len(tiles))
            if i < len(tiles):
                box.show_tile(tiles[i], self.model.pictures.get(tiles[i].centre))

    def _show_main(self) -> None:
        m = self.model.current
        who = self.model.main_speaker()
        name = t("convenor") if who == HALL or m is None else m.name_of(who)
        self.main.show_picture(self.model.pictures.get(who), name)

    def _on_picture(self, who: str) -> None:
        if who == self.model.main_speaker():
            self._show_main()
        for box in self.tiles:
            if box.tile is not None and box.tile.centre == who:
                box.show_tile(box.tile, self.model.pictures.get(who))

    # -- intents ----------------------------------------------------------------------------
    def _on_selected(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.controller.select(str(item.data(Qt.ItemDataRole.UserRole)))

    def _tile_menu(self, centre: str, menu: QMenu) -> None:
        menu.addAction(t("give_floor"), lambda: self.controller.give_floor(centre))
        menu.addAction(t("unmute"), lambda: self.controller.unmute(centre))
        menu.addAction(t("remove"), lambda: self.controller.remove(centre))

    def _fill_share_menu(self) -> None:
        menu = self.share_menu
        menu.clear()
        screen = ShareChoice("screen", t("share_screen"))
        menu.addAction(t("share_screen"), lambda: self.controller.share(screen))
        menu.addSeparator()
        windows = list_windows()
        for w in windows:
            menu.addAction(w.name, partial(self.controller.share, w))
        if not windows:
            menu.addAction(t("share_no_windows")).setEnabled(False)
        menu.addSeparator()
        menu.addAction(t("share_pdf"), self._share_pdf)

    def _share_pdf(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, t("share_pdf"), "", "PDF (*.pdf)")
        if not name:
            return
        path = Path(name)
        n = pdf_pages(path)
        if n < 1:
            self.controller.share_failed(path.name)
            return
        page, ok = QInputDialog.getInt(self, path.name, t("share_page", n=n), 1, 1, n)
        if ok:
            label = t("share_pdf_name", file=path.name, page=page)
            self.controller.share(ShareChoice("pdf", label, path=path, page=page))

    def _toggle_lock(self) -> None:
        m = self.model.current
        if m is not None:
            self.controller.set_locked(not m.locked)

    def _new_meeting(self) -> None:
        dlg = NewMeetingDialog(self.model.centres, self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.controller.create(
                dlg.title.text(), dlg.invited(), dlg.minutes.value(), dlg.agenda.toPlainText()
            )
