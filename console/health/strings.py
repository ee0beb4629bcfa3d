"""The health view's strings, Chinese first, English second (joined to console.kit.i18n)."""

from __future__ import annotations

from console.kit import i18n

ZH = {
    "title": "设备巡检",
    "col.place": "区域",
    "col.cameras": "点位数",
    "col.online": "在线率",
    "col.quality": "完好率",
    "col.camera": "摄像机",
    "col.trouble": "故障",
    "col.time": "巡检时间",
    "col.event": "工单",
    "col.state": "状态",
    "last_good": "最近正常画面",
    "current": "当前画面",
    "no_picture": "无画面",
    "history": "巡检记录：{name}",
    "faulty": "故障摄像机（{n}）",
    "summary": "共 {total} 路，在线 {online} 路，画面正常 {healthy} 路",
    "ok": "正常",
    "county": "全县",
    "unchecked": "未巡检",
}
EN = {
    "title": "Camera health",
    "col.place": "Area",
    "col.cameras": "Cameras",
    "col.online": "Online",
    "col.quality": "Quality",
    "col.camera": "Camera",
    "col.trouble": "Trouble",
    "col.time": "Checked at",
    "col.event": "Ticket",
    "col.state": "State",
    "last_good": "Last good picture",
    "current": "Current picture",
    "no_picture": "no picture",
    "history": "History: {name}",
    "faulty": "Faulty cameras ({n})",
    "summary": "{total} cameras, {online} online, {healthy} with a good picture",
    "ok": "OK",
    "county": "County",
    "unchecked": "not checked",
}


t = i18n.add_strings("health", ZH, EN)
