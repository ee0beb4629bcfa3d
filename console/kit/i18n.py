"""UI strings in Chinese (default) and English, and the language switch: the console's
one i18n.

Every string the console shows goes through `tr(key, **fields)`. The shell's and the
wall's strings are in the tables below; each panel keeps its own table in its
`strings.py` and joins them with `add_strings(prefix, zh, en)`, which refuses a table
whose languages do not have the same keys (so English cannot fall behind) and returns
the panel's lookup (`tr` with the prefix). Widgets that stay on screen follow `changed` (or
`on_change`) and re-read their strings when the officer switches the language.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from console.kit.observable import Observable, Subscription

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"

ZH_CN: dict[str, str] = {
    "app.title": "综治中心 指挥调度大厅",
    "dock.cameras": "监控点位",
    "panel.events": "事件队列",
    "dock.side": "{title}",
    "tree.search": "搜索点位名称…",
    "tree.count": "{name}（{online}/{total}）",
    "tree.county": "全县",
    "state.idle": "未连接",
    "state.connecting": "连接中",
    "state.live": "在线",
    "state.stalled": "卡顿",
    "state.offline": "离线",
    "state.retrying": "重连中 {seconds} 秒",
    "state.retrying_now": "重连中",
    "state.auth_failed": "认证失败",
    "state.not_found": "未找到",
    "state.no_video": "无视频流",
    "state.decoder_lost": "解码进程退出",
    "tile.empty": "拖入监控点位",
    "tile.missing": "监控点位 {camera} 已不在站点中\n拖入其他监控点位",
    "tile.keyframes": "仅关键帧",
    "tile.status": "{name} · {state} · {fps:.0f} 帧/秒 · 帧龄 {age} · 丢帧 {dropped}",
    "tile.age_none": "—",
    "tile.age_ms": "{ms} 毫秒",
    "tile.tooltip": "{name}\n{stream} {width}×{height}，画面 {tile_w}×{tile_h}",
    "tile.tooltip_keyframes": "为保全墙流畅，此画面仅解码关键帧（约每 2 秒更新一次）",
    "stream.main": "主码流",
    "stream.sub": "子码流",
    "stream.third": "第三码流",
    "menu.snapshot": "抓拍",
    "menu.clip": "保存最近 30 秒",
    "menu.close": "关闭画面",
    "menu.maximise": "最大化 / 还原",
    "menu.view": "视图",
    "menu.language": "语言",
    "menu.wall": "视频墙",
    "menu.evidence": "证据",
    "action.status_line": "显示状态栏",
    "action.prev_page": "上一页",
    "action.next_page": "下一页",
    "action.page": "第 {page}/{pages} 页",
    "action.save_layout": "保存布局…",
    "action.load_layout": "调用布局",
    "action.delete_layout": "删除布局",
    "action.tour_wall": "整墙轮巡",
    "action.tour_tile": "单画面轮巡",
    "action.tour_pause": "暂停轮巡",
    "action.tour_resume": "继续轮巡",
    "action.tour_stop": "停止轮巡",
    "action.dwell": "停留 {seconds} 秒",
    "action.fullscreen": "视频墙全屏（副屏）",
    "action.fullscreen_back": "视频墙返回主窗口",
    "action.open_evidence": "打开证据文件夹",
    "action.quit": "退出",
    "label.layout": "布局",
    "label.dwell": "轮巡间隔",
    "lang.zh_CN": "中文",
    "lang.en": "English",
    "layout.1": "1 画面",
    "layout.4": "4 画面",
    "layout.9": "9 画面",
    "layout.16": "16 画面",
    "layout.25": "25 画面",
    "layout.36": "36 画面",
    "layout.1+5": "1 大 5 小",
    "layout.1+7": "1 大 7 小",
    "dialog.layout_name": "布局名称：",
    "status.ready": "就绪",
    "status.snapshot_saved": "抓拍已保存：{path}",
    "status.clip_saved": "录像已保存：{path}",
    "status.evidence_failed": "保存失败：{error}",
    "status.evidence_no_space": "证据未保存：证据文件夹所在磁盘已满（{folder}）。"
    "请清理磁盘后重试，视频墙照常工作",
    "status.saving_clip": "正在保存 {name} 最近 30 秒…",
    "status.shed": "负载过高：{count} 个画面仅解码关键帧",
    "status.no_load": "",
    "status.layout_saved": "布局已保存：{name}",
    "status.layout_restored": "已调用布局：{name}",
    "status.layout_file_bad": "布局文件损坏，已另存为 {path}：{error}",
    "status.cameras_missing": "保存的布局中有 {count} 个监控点位已不在站点中：{cameras}",
    "status.no_second_screen": "未检测到副屏，视频墙在当前屏幕全屏（Esc 返回）",
    "status.tour_running": "轮巡中：{count} 个点位，每 {seconds} 秒",
    "status.tour_paused": "轮巡已暂停",
    "status.no_tour_cameras": "请先在点位树中选择要轮巡的点位",
    "status.evidence_folder": "证据文件夹：{path}",
    "status.online": "在线 {online}/{total}",
    "wall.window_title": "视频墙",
    "self.title": "本端",
}

EN: dict[str, str] = {
    "app.title": "Command Hall — county command centre",
    "dock.cameras": "Cameras",
    "panel.events": "Event queue",
    "dock.side": "{title}",
    "tree.search": "Search cameras…",
    "tree.count": "{name} ({online}/{total})",
    "tree.county": "County",
    "state.idle": "Idle",
    "state.connecting": "Connecting",
    "state.live": "Live",
    "state.stalled": "Stalled",
    "state.offline": "Offline",
    "state.retrying": "Retrying in {seconds} s",
    "state.retrying_now": "Retrying",
    "state.auth_failed": "Auth failed",
    "state.not_found": "Not found",
    "state.no_video": "No video stream",
    "state.decoder_lost": "Decode process exited",
    "tile.empty": "Drop a camera here",
    "tile.missing": "Camera {camera} is no longer in the site\nDrop another camera here",
    "tile.keyframes": "key frames only",
    "tile.status": "{name} · {state} · {fps:.0f} fps · age {age} · dropped {dropped}",
    "tile.age_none": "—",
    "tile.age_ms": "{ms} ms",
    "tile.tooltip": "{name}\n{stream} {width}×{height}, tile {tile_w}×{tile_h}",
    "tile.tooltip_keyframes": (
        "Key frames only (a new picture about every 2 s), so that the whole wall stays smooth"
    ),
    "stream.main": "main stream",
    "stream.sub": "sub-stream",
    "stream.third": "third stream",
    "menu.snapshot": "Snapshot",
    "menu.clip": "Save last 30 s",
    "menu.close": "Close",
    "menu.maximise": "Maximise / restore",
    "menu.view": "View",
    "menu.language": "Language",
    "menu.wall": "Wall",
    "menu.evidence": "Evidence",
    "action.status_line": "Show status lines",
    "action.prev_page": "Previous page",
    "action.next_page": "Next page",
    "action.page": "Page {page}/{pages}",
    "action.save_layout": "Save layout…",
    "action.load_layout": "Load layout",
    "action.delete_layout": "Delete layout",
    "action.tour_wall": "Tour whole wall",
    "action.tour_tile": "Tour one tile",
    "action.tour_pause": "Pause tour",
    "action.tour_resume": "Resume tour",
    "action.tour_stop": "Stop tour",
    "action.dwell": "Dwell {seconds} s",
    "action.fullscreen": "Wall full screen (second screen)",
    "action.fullscreen_back": "Wall back to main window",
    "action.open_evidence": "Open evidence folder",
    "action.quit": "Quit",
    "label.layout": "Layout",
    "label.dwell": "Tour dwell",
    "lang.zh_CN": "中文",
    "lang.en": "English",
    "layout.1": "1 tile",
    "layout.4": "4 tiles",
    "layout.9": "9 tiles",
    "layout.16": "16 tiles",
    "layout.25": "25 tiles",
    "layout.36": "36 tiles",
    "layout.1+5": "1 large + 5",
    "layout.1+7": "1 large + 7",
    "dialog.layout_name": "Layout name:",
    "status.ready": "Ready",
    "status.snapshot_saved": "Snapshot saved: {path}",
    "status.clip_saved": "Clip saved: {path}",
    "status.evidence_failed": "Saving failed: {error}",
    "status.evidence_no_space": "Evidence NOT saved: the disk of the evidence folder is full "
    "({folder}). Make room and save again; the wall goes on working",
    "status.saving_clip": "Saving the last 30 s of {name}…",
    "status.shed": "Overloaded: {count} tiles decode key frames only",
    "status.no_load": "",
    "status.layout_saved": "Layout saved: {name}",
    "status.layout_restored": "Layout loaded: {name}",
    "status.layout_file_bad": "Layout file damaged, kept as {path}: {error}",
    "status.cameras_missing": (
        "{count} camera(s) of the saved layout are no longer in the site: {cameras}"
    ),
    "status.no_second_screen": "No second screen: the wall is full screen here (Esc returns)",
    "status.tour_running": "Touring {count} cameras, {seconds} s each",
    "status.tour_paused": "Tour paused",
    "status.no_tour_cameras": "Select the cameras to tour in the camera tree first",
    "status.evidence_folder": "Evidence folder: {path}",
    "status.online": "Online {online}/{total}",
    "wall.window_title": "Video wall",
    "self.title": "Me",
}

TABLES: dict[str, dict[str, str]] = {"zh_CN": ZH_CN, "en": EN}

_current = [os.environ.get("HALL_LANG", DEFAULT_LANGUAGE)]
if _current[0] not in TABLES:
    _current[0] = DEFAULT_LANGUAGE
changed: Observable[str] = Observable()
"""Emits the new language code after each switch."""


class UnknownLanguageError(ValueError):
    """A language code with no table."""


class StringTableError(ValueError):
    """A panel's table is incomplete in one language or reuses a key."""


Lookup = Callable[..., str]


def add_strings(prefix: str, zh: Mapping[str, str], en: Mapping[str, str]) -> Lookup:
    """Join a panel's strings as `prefix.key` and return its lookup: `lookup(key, **fields)`
    is `tr(f"{prefix}.{key}", **fields)`. Both languages must have the same keys."""
    only_zh, only_en = sorted(set(zh) - set(en)), sorted(set(en) - set(zh))
    if only_zh or only_en:
        raise StringTableError(
            f"strings {prefix!r}: without English {only_zh}, without Chinese {only_en}"
        )
    for table, strings in ((ZH_CN, zh), (EN, en)):
        for key, text in strings.items():
            full = f"{prefix}.{key}"
            if table.get(full, text) != text:
                raise StringTableError(f"strings {prefix!r}: {full!r} is defined twice")
            table[full] = text

    def lookup(key: str, lang: str | None = None, /, **fields: object) -> str:
        full = f"{prefix}.{key}"
        if full not in ZH_CN:
            raise KeyError(f"no string {full!r} in the console's tables")
        return tr(full, lang, **fields)

    return lookup


def language() -> str:
    return _current[0]


def set_language(code: str) -> None:
    """Switch the UI language and tell every registered widget."""
    if code not in TABLES:
        raise UnknownLanguageError(
            f"unknown language {code!r}: choose one of {', '.join(LANGUAGES)}"
        )
    if code == _current[0]:
        return
    _current[0] = code
    changed.emit(code)


def on_change(listener: Callable[[], None]) -> Subscription:
    """Call `listener` after each language switch (a subscription to `changed`)."""
    return changed.connect(lambda _code: listener())


def tr(key: str, lang: str | None = None, /, **fields: object) -> str:
    """The string for `key` in `lang` (default: the current language), with `fields`
    filled in."""
    table = TABLES.get(lang or _current[0], TABLES[_current[0]])
    text = table.get(key)
    if text is None:
        text = ZH_CN.get(key, key)
    return text.format(**fields) if fields else text
