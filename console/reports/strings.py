"""The report and hot-spot panels' strings, Chinese (default) and English, joined to
`console.kit.i18n` under `reports.`; `t(key, **fields)` looks one up. (The monthly
report's own figures and sections are the document the hub makes, in Chinese.)"""

from __future__ import annotations

from console.kit import i18n

ZH: dict[str, str] = {
    "report_title": "信息月报",
    "hotspots_title": "热点预警",
    "hotspots_count": "热点预警（{n}）",
    "hotspots_failed": "热点预警（获取失败：{error}）",
    "no_hotspots": "近7天无热点",
    "kind.category": "类别",
    "kind.grid": "网格",
    "hotspot": "【{kind}】{label}：近7天 {count} 件（历史周均 {baseline:.1f}）",
    "hotspot_tip": "P = {p:.1e}；点击查看 {n} 件事件",
    "hotspot_tip_newest": "P = {p:.1e}；点击查看最近 {n} 件事件（共 {count} 件）",
    "month": "月份",
    "make": "生成月报",
    "tip.make": "生成所选月份的月报",
    "export_pdf": "导出PDF",
    "tip.export": "把月报导出为 PDF",
    "choose_month": "请选择月份",
    "col.figure": "指标",
    "col.value": "数值",
    "overdue": "超期事件",
    "no_overdue": "本月无超期事件",
    "working": "正在生成…",
    "error": "出错：{message}",
    "overdue_by": "超出 {hours:.1f} 小时",
    "screen_title": "{county} 信息月报 {year}年{month}月",
    "not_connected": "未连接集控中心或未登录",
    "cannot_export": "无法导出：未连接集控中心",
    "saved": "已导出：{path}",
    "report_saved": "月报已导出：{path}",
}

EN: dict[str, str] = {
    "report_title": "Monthly report",
    "hotspots_title": "Hot spots",
    "hotspots_count": "Hot spots ({n})",
    "hotspots_failed": "Hot spots (could not get them: {error})",
    "no_hotspots": "No hot spots in the last 7 days",
    "kind.category": "Category",
    "kind.grid": "Grid",
    "hotspot": "[{kind}] {label}: {count} in 7 days (weekly mean {baseline:.1f})",
    "hotspot_tip": "P = {p:.1e}; click to see the {n} events",
    "hotspot_tip_newest": "P = {p:.1e}; click to see the newest {n} of its {count} events",
    "month": "Month",
    "make": "Make report",
    "tip.make": "Make the report of the chosen month",
    "export_pdf": "Export PDF",
    "tip.export": "Export the report as a PDF",
    "choose_month": "Choose a month",
    "col.figure": "Figure",
    "col.value": "Value",
    "overdue": "Overdue events",
    "no_overdue": "No overdue events this month",
    "working": "Working…",
    "error": "Error: {message}",
    "overdue_by": "{hours:.1f} h over",
    "screen_title": "{county} monthly report {year}-{month:02d}",
    "not_connected": "Not connected to the hub or not logged in",
    "cannot_export": "Cannot export: not connected to the hub",
    "saved": "Saved: {path}",
    "report_saved": "Monthly report saved: {path}",
}

t = i18n.add_strings("reports", ZH, EN)
"""The panels' string for `key` in the current language, with `fields` filled in."""
