"""The control-room look: a dark QSS and a font that renders Chinese."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

THEME_DIR = Path(__file__).resolve().parents[2] / "resources" / "theme"
CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei")


def stylesheet(name: str = "dark") -> str:
    return (THEME_DIR / f"{name}.qss").read_text(encoding="utf-8")


def cjk_family() -> str | None:
    """The first installed font family that has Chinese glyphs, or None."""
    families = set(QFontDatabase.families())
    for fam in CJK_FAMILIES:
        if fam in families:
            return fam
    for fam in sorted(families):
        if QFontDatabase.WritingSystem.SimplifiedChinese in QFontDatabase.writingSystems(fam):
            return fam
    return None


def apply(app: QApplication, name: str = "dark") -> None:
    """Set the stylesheet and a Chinese-capable default font on the application."""
    family = cjk_family()
    if family is not None:
        font = QFont(family)
        font.setPointSize(10)
        app.setFont(font)
    app.setStyleSheet(stylesheet(name))
