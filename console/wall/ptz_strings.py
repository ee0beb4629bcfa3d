"""The PTZ strings of the wall (Chinese and English)."""

from __future__ import annotations

from console.kit.i18n import add_strings

ZH = {
    "held": "被 {operator} 控制中",
    "mine": "我正在控制云台",
    "error": "云台：{error}",
    "pad": "云台",
    "menu": "云台",
    "menu.goto": "转到预置位",
    "menu.none": "（无预置位）",
    "menu.save": "保存当前位置为预置位…",
    "menu.takeover": "接管云台",
    "menu.release": "释放云台",
    "save.title": "保存预置位",
    "save.label": "预置位名称：",
    "hint": "拖动或方向键转动，滚轮变倍",
}
EN = {
    "held": "held by {operator}",
    "mine": "you control the PTZ",
    "error": "PTZ: {error}",
    "pad": "PTZ",
    "menu": "PTZ",
    "menu.goto": "Go to preset",
    "menu.none": "(no presets)",
    "menu.save": "Save this position as a preset…",
    "menu.takeover": "Take over the PTZ",
    "menu.release": "Release the PTZ",
    "save.title": "Save preset",
    "save.label": "Preset name:",
    "hint": "drag or arrow keys to turn, wheel to zoom",
}
tr = add_strings("ptz", ZH, EN)
