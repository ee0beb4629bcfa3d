"""The playback window's strings, zh_CN (default) and en, under the prefix `playback.`."""

from __future__ import annotations

from console.kit import i18n

_ZH: dict[str, str] = {
    "window.title": "录像回放",
    "window.event": "录像回放 — 事件：{title}",
    "button.play": "播放",
    "button.pause": "暂停",
    "button.step": "单帧",
    "button.event_time": "回到事件时间",
    "button.mark_in": "标记起点",
    "button.mark_out": "标记终点",
    "button.export": "导出证据",
    "speed": "倍速",
    "speed.value": "×{speed}",
    "span": "{start} — {end}",
    "marks": "导出区间：{start} — {end}",
    "marks.none": "导出区间：未标记",
    "state.idle": "未播放",
    "state.opening": "正在打开录像…",
    "state.playing": "播放中",
    "state.paused": "已暂停",
    "state.ended": "录像结束",
    "state.failed": "录像打开失败：{error}",
    "no_picture": "无画面",
    "no_recording": "此时段无录像",
    "export.running": "正在导出 {camera} 的录像…",
    "export.done": "已导出 {file}",
    "export.attached": "已导出并附加到事件：{file}",
    "export.failed": "导出失败：{error}",
    "export.no_marks": "请先标记导出区间的起点和终点",
    "export.no_event": "已导出 {file}（未选择事件，未附加）",
}

_EN: dict[str, str] = {
    "window.title": "Playback",
    "window.event": "Playback — event: {title}",
    "button.play": "Play",
    "button.pause": "Pause",
    "button.step": "Step",
    "button.event_time": "Event time",
    "button.mark_in": "Mark in",
    "button.mark_out": "Mark out",
    "button.export": "Export evidence",
    "speed": "Speed",
    "speed.value": "×{speed}",
    "span": "{start} — {end}",
    "marks": "Export span: {start} — {end}",
    "marks.none": "Export span: not marked",
    "state.idle": "Not playing",
    "state.opening": "Opening the recording…",
    "state.playing": "Playing",
    "state.paused": "Paused",
    "state.ended": "End of recording",
    "state.failed": "Cannot open the recording: {error}",
    "no_picture": "No picture",
    "no_recording": "No recording at this time",
    "export.running": "Exporting {camera}'s recording…",
    "export.done": "Exported {file}",
    "export.attached": "Exported and attached to the event: {file}",
    "export.failed": "Export failed: {error}",
    "export.no_marks": "Mark the start and the end of the span first",
    "export.no_event": "Exported {file} (no event selected, not attached)",
}

tr = i18n.add_strings("playback", _ZH, _EN)
