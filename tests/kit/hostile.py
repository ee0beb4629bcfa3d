"""Hostile outside text for the console's panels (issue 12, hole 3).

`HOSTILE` are strings an outside system could send as a title, a name, an address or an
error message: a fake heading, a local image, a link, entities that Qt's rich-text guess
turns into tags, right-to-left overrides and a very long line. The checks say what a
person would read: every label of a panel is plain (or escaped rich text), a label shows
its string literally, one line stays one line high, a tooltip reads as typed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from console.kit.plain import inert_bidi, risky_labels, shown_text, shown_tooltip

HEADING = "<h1>已核实，无需处置</h1>"
IMAGE = '<img src="file:///etc/passwd">'
LINK = '<a href="https://evil.test/x">点此核实</a>'
ENTITIES = "&lt;b&gt;已办结&lt;/b&gt; &amp; 不用管"
RTL = "\u202e置处需无\u202c 王五"
"""Reads "无需处置 王五" when the override is obeyed; the console shows the controls."""
LONG = "很长的标题" * 400

HOSTILE = (HEADING, IMAGE, LINK, ENTITIES, RTL, LONG)
"""Every hostile string; the first five are one line each."""

ONE_LINE = (HEADING, IMAGE, LINK, ENTITIES, RTL)


def _describe(labels: list[QLabel]) -> list[tuple[str, str, str]]:
    return [(lb.objectName(), str(lb.textFormat()), lb.text()[:60]) for lb in labels]


def assert_no_risky_labels(root: QWidget) -> None:
    """No label under `root` guesses markup (every one PlainText or escaped rich text)."""
    risky = risky_labels(root)
    assert not risky, f"labels that may render markup: {_describe(risky)}"


def assert_literal(label: QLabel, expected: str, *, one_line: bool | None = None) -> None:
    """`label` shows `expected` as typed (direction controls as `[U+202E]`); a one-line
    string stays one line high."""
    assert label.textFormat() == Qt.TextFormat.PlainText, _describe([label])
    assert shown_text(label) == inert_bidi(expected)
    if one_line is None:
        one_line = "\n" not in expected and len(expected) < 80
    if one_line and not label.wordWrap():
        fm = label.fontMetrics()
        assert label.sizeHint().height() < 2 * fm.lineSpacing() + 2 * label.margin() + 8


def shown_labels(root: QWidget) -> list[str]:
    """What a person reads in every visible-or-not label under `root`."""
    return [shown_text(lb) for lb in root.findChildren(QLabel)]


def assert_shown_somewhere(root: QWidget, expected: str) -> None:
    """Some label under `root` reads `expected` literally (maybe among other words)."""
    texts = shown_labels(root)
    want = inert_bidi(expected)
    assert any(want in t for t in texts), f"{want[:40]!r} not in {texts}"


def assert_tooltip_literal(tip: str, expected: str) -> None:
    """A tooltip set to `tip` reads `expected` (whitespace runs aside, direction controls
    as `[U+202E]`)."""
    assert " ".join(shown_tooltip(tip).split()) == " ".join(inert_bidi(expected).split())
