"""Outside text shown as text, never as markup (issue 12, hole 3).

Titles, descriptions, addresses, names, camera names, patrol messages and hub error
messages come from outside systems and people. A `QLabel` in its default `AutoText`
format renders a string that looks like HTML as rich text (a fake "已核实，无需处置"
heading, an `<img src="file:///…">` loaded from the disk), and Qt tooltips guess the
same way (`Qt.mightBeRichText`: a tag or even a `&lt;` in the first line is enough).

Every label in the console is made by `plain_label` (format `PlainText`), painted text
by `plain_static_text` (a `QStaticText` guesses too); the few labels
that show formatting build it with `rich_label` from `escape`d parts. Tooltips go through
`plain_tooltip` (the text escaped inside a paragraph, so Qt shows it literally). Labels,
tooltips and escaped text also show right-to-left overrides and the other direction
controls as `[U+202E]` (`inert_bidi`) rather than letting them reorder the words.
`risky_labels` is the guard the tests run over each panel after filling it with hostile
strings; `shown_text` and `shown_tooltip` say what a person actually reads.
"""

from __future__ import annotations

import html

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtGui import QStaticText, QTextDocument
from PySide6.QtWidgets import QLabel, QWidget

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Invisible characters that reorder what follows them (a right-to-left override makes
"置处需无" read "无需处置"): outside text never needs them in this console."""

_BIDI_SHOWN = {ord(c): f"[U+{ord(c):04X}]" for c in BIDI_CONTROLS}

RICH_PROPERTY = "escapedRichText"
"""Set on labels made by `rich_label`: their markup is built from `escape`d parts."""


def inert_bidi(text: str) -> str:
    """`text` with each direction control shown as `[U+202E]` instead of obeyed."""
    return text.translate(_BIDI_SHOWN)


def escape(text: str) -> str:
    """Outside text as HTML that shows exactly `text` (quotes included; direction
    controls made visible by `inert_bidi`)."""
    return html.escape(inert_bidi(text), quote=True)


def plain_tooltip(text: str) -> str:
    """A tooltip string Qt shows literally, whatever markup or entities `text` holds."""
    if not text:
        return ""
    return QtGui.Qt.convertFromPlainText(inert_bidi(text), Qt.WhiteSpaceMode.WhiteSpaceNormal)


def set_plain_tooltip(widget: QWidget, text: str) -> None:
    """`widget.setToolTip` for text that may have come from outside."""
    widget.setToolTip(plain_tooltip(text))


class PlainLabel(QLabel):
    """A `QLabel` whose `setText` shows direction controls (`inert_bidi`) instead of
    obeying them; made by `plain_label`, which also fixes the format to `PlainText`."""

    def setText(self, text: str) -> None:
        super().setText(inert_bidi(text))


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that never interprets its text: markup and entities are shown as typed,
    direction controls as `[U+202E]`."""
    label = PlainLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def plain_static_text(text: str = "") -> QStaticText:
    """A `QStaticText` (painted text, e.g. a wall tile's status line) that is never markup."""
    static = QStaticText()
    static.setTextFormat(Qt.TextFormat.PlainText)
    static.setText(text)
    return static


def rich_label(markup: str = "", parent: QWidget | None = None) -> QLabel:
    """A label whose markup the caller built with `escape` around every outside part.

    Links are neither opened nor followed; the format is `RichText`, not guessed.
    """
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setOpenExternalLinks(False)
    label.setProperty(RICH_PROPERTY, True)
    label.setText(markup)
    return label


def _is_rich(text: str, fmt: Qt.TextFormat) -> bool:
    if fmt == Qt.TextFormat.PlainText:
        return False
    if fmt == Qt.TextFormat.AutoText:
        return QtGui.Qt.mightBeRichText(text)
    return True


def _document_text(markup: str) -> str:
    doc = QTextDocument()
    doc.setHtml(markup)
    return doc.toPlainText()


def shown_text(label: QLabel) -> str:
    """What a person reads in `label` (rich text reduced to its characters)."""
    text = label.text()
    return _document_text(text) if _is_rich(text, label.textFormat()) else text


def shown_tooltip(tip: str) -> str:
    """What a person reads in a tooltip set to `tip` (Qt guesses rich text for tooltips)."""
    return _document_text(tip) if _is_rich(tip, Qt.TextFormat.AutoText) else tip


def risky_labels(root: QWidget) -> list[QLabel]:
    """Labels under `root` (and `root` itself) that may interpret their text as markup.

    A label is safe when its format is `PlainText` or when it was made by `rich_label`;
    any other (an empty one too: outside text may be set into it later) is what hole 3
    was about.
    """
    found = root.findChildren(QLabel)
    if isinstance(root, QLabel):
        found.insert(0, root)
    risky = []
    for label in found:
        if label.textFormat() == Qt.TextFormat.PlainText or label.property(RICH_PROPERTY):
            continue
        risky.append(label)
    return risky
