"""The event queue's own strings, zh_CN (default) and en, joined to `console.kit.i18n`
under the prefix `events.` (the task panels, the login and the linkage use them too).

`tr(key, **fields)` looks a key up in the console's current language. Names of domain
values (states, actions, sources, ...) have their own helpers so that the views never
show raw enum values.
"""

from __future__ import annotations

from console.kit import i18n
from dispatch.domain.model import (
    DEFAULT_CATEGORIES,
    Action,
    Colour,
    EventSource,
    EventState,
    Priority,
    Role,
)

ZH = "zh_CN"
EN = "en"

_ZH: dict[str, str] = {
    "panel.title": "事件队列",
    "panel.not_logged_in": "未登录",
    "panel.operator": "{operator}（{role}）@ {workstation}",
    "panel.count": "共 {shown} 件 / {total} 件",
    "banner.lost": "与指挥中心服务连接中断 — 显示的是 {time} 的数据，正在重连…",
    "banner.disk_full": "中枢服务器磁盘已满（自 {time}）— 新上报的事件和处置操作暂时无法保存，"
    "请通知系统管理员清理磁盘；空间恢复后自动继续",
    "banner.db_unreachable": "中枢数据库无法连接（自 {time}）— 新上报的事件和处置操作暂时无法保存，"
    "恢复后自动继续",
    "banner.connecting": "正在连接指挥中心服务…",
    "banner.refused": "本工作站未登记/已吊销，请联系管理员（指挥中心服务拒绝了本工作站的密钥）",
    "banner.alarm": "新红色预警 {count} 件：{title} — 按 K 确认",
    "filter.all_states": "全部状态（未归档）",
    "filter.all_sources": "全部来源",
    "filter.all_categories": "全部类别",
    "filter.all_townships": "全部乡镇",
    "filter.search": "搜索标题、描述、地址、编号…",
    "only.banner": "仅显示热点预警的 {n} 件事件",
    "only.clear": "显示全部",
    "col.colour": "预警",
    "col.countdown": "本环节时限",
    "col.priority": "等级",
    "col.title": "事件",
    "col.category": "类别",
    "col.source": "来源",
    "col.township": "乡镇",
    "col.state": "状态",
    "details.empty": "在列表中选择一件事件查看详情",
    "details.id": "编号",
    "details.title": "标题",
    "details.state": "状态",
    "details.colour": "预警",
    "details.deadline": "本环节时限",
    "details.source": "来源",
    "details.source_ref": "来源编号",
    "details.category": "类别",
    "details.priority": "等级",
    "details.place": "地点",
    "details.reporter": "反映人",
    "details.reporter_phone": "联系电话",
    "details.reporter_id": "身份证号",
    "details.reveal": "查看完整号码",
    "details.reveal_tip": "向集控中心申请查看反映人的完整电话和身份证号（需填写理由，记入审计）",
    "reveal.title": "查看完整号码",
    "reveal.prompt": "查看理由（记入审计日志）：",
    "status.revealed": "已显示完整号码，{seconds} 秒后恢复遮挡；本次查看已记入审计",
    "error.reveal": "查看完整号码失败：{message}",
    "timeline.reveal": "查看完整号码",
    "details.description": "描述",
    "details.assignee": "承办单位",
    "details.reported_at": "上报时间",
    "details.accepted_at": "受理时间",
    "details.escalation": "升级层级",
    "details.extension": "延期",
    "details.extension_value": "已批 {days} 个工作日{requested}",
    "details.extension_requested": "（有待批申请）",
    "details.checks": "核查 / 回访",
    "details.timeline": "处置时间线",
    "timeline.at": "时间",
    "timeline.operator": "操作人",
    "timeline.workstation": "席位",
    "timeline.action": "操作",
    "timeline.states": "状态变化",
    "timeline.note": "说明",
    "timeline.loading": "正在读取时间线…",
    "countdown.left": "剩余 {time}",
    "countdown.over": "超时 {time}",
    "countdown.none": "—",
    "countdown.days": "{days}天 ",
    "yes": "是",
    "no": "否",
    "ack.note": "已确认红色预警",
    "ack.button": "确认预警 (K)",
    "dialog.note": "说明",
    "dialog.reason": "退单原因（必填）",
    "dialog.assignee": "承办单位（必填）",
    "dialog.days": "延期工作日数",
    "dialog.required": "此项为必填，请填写后再提交。",
    "dialog.title": "{action}：{title}",
    "dialog.ok": "提交",
    "dialog.cancel": "取消",
    "error.act": "操作失败：{message}",
    "error.not_connected": "未连接指挥中心服务，操作未发送",
    "error.timeout": "指挥中心服务未在时限内应答",
    "error.not_logged_in": "请先登录",
    "status.done": "已{action}：{title}",
    "login.title": "登录 — 指挥调度大厅",
    "login.operator": "操作员",
    "login.password": "密码",
    "login.workstation": "席位名称",
    "login.submit": "登录",
    "login.cancel": "取消",
    "login.busy": "正在登录…",
    "login.bad_credentials": "用户名或密码错误，请重新输入。",
    "login.unreachable": "无法连接指挥中心服务：{message}",
    "login.throttled": "登录失败次数过多，请 {seconds} 秒后再试。",
    "login.hub_busy": "服务器繁忙，请稍后重试。",
    "login.refused": "本工作站未登记/已吊销，请联系管理员。",
    "login.missing": "请填写{field}。",
    "tooltip.shortcut": "{action}（快捷键 {key}）",
    "tooltip.unavailable": "当前状态或角色不允许此操作",
    "error.no_dispatch": "所连接的服务不支持派单",
    "error.preview": "无法获取派单建议：{message}",
    "error.dispatch": "派单失败：{message}",
    "error.task": "任务操作失败：{message}",
    "error.evidence": "附加证据失败：{message}",
    "status.dispatched": "已派单：{title} → {person}",
    "status.task_done": "已{action}",
    "status.evidence_attached": "证据已附加到事件：{title}",
    "status.no_cameras": "{title}：附近没有摄像机",
    "dispatch.button": "派单 (P)",
    "dispatch.more": "选择人员 / 加备注…",
    "dispatch.link": "联动视频 (L)",
    "mediation.button": "视频调解 (M)",
    "dispatch.tasks.core": "派单任务",
    "dispatch.none": "尚未派单",
    "dispatch.dialog_title": "派单 — {title}",
    "dispatch.person": "派给",
    "dispatch.suggested": "（建议）",
    "dispatch.instruction": "指令",
    "dispatch.note": "备注（可选）",
    "dispatch.loading": "正在获取派单建议…",
    "dispatch.reason": "原因",
    "dispatch.reason_required": "请填写原因。",
    "dispatch.task_title": "{person}（{role}） · {state}",
    "dispatch.snapshot_attach": "抓拍并附加到事件",
    "dispatch.clip_attach": "保存 30 秒并附加到事件",
    "dispatch.no_event": "（请先在事件队列中选择事件）",
    "linkage.shown": "联动视频：{title} — 最近的 {count} 路摄像机已上墙（最近的放大）",
    "linkage.alarm": "联动视频：{title} — 报警摄像机已最大化",
    "linkage.auto": "【自动】",
    "linkage.none": "联动视频：{title} — 附近的摄像机不在本机配置中",
    "linkage.back": "恢复原布局",
    "linkage.restored": "已恢复联动前的布局",
    "linkage.attaching": "正在将{kind}附加到事件：{title}",
    "linkage.kind_snapshot": "快照",
    "linkage.kind_clip": "30 秒录像",
    "timeline.accept": "受理",
    "task.photos": "{text}（照片 {n} 张）",
    "role.grid_leader": "网格长",
    "role.deputy": "副网格长",
    "role.village_supervisor": "村（社区）负责人",
    "role.township_supervisor": "乡镇综治中心",
    "role.county": "县级",
    "role.maintenance": "运维",
}

_EN: dict[str, str] = {
    "panel.title": "Event queue",
    "panel.not_logged_in": "Not logged in",
    "panel.operator": "{operator} ({role}) @ {workstation}",
    "panel.count": "{shown} of {total} events",
    "banner.lost": "Connection to the hub lost — showing data as of {time}, reconnecting…",
    "banner.disk_full": "The hub's disk is full (since {time}) — new events and actions cannot "
    "be saved for now; tell the system administrator; it resumes by itself when space returns",
    "banner.db_unreachable": "The hub's database is unreachable (since {time}) — new events and "
    "actions cannot be saved for now; it resumes by itself when the database is back",
    "banner.connecting": "Connecting to the hub…",
    "banner.refused": "This workstation is not enrolled or was revoked: contact the administrator",
    "banner.alarm": "{count} new red event(s): {title} — press K to acknowledge",
    "filter.all_states": "All states (open)",
    "filter.all_sources": "All sources",
    "filter.all_categories": "All categories",
    "filter.all_townships": "All townships",
    "filter.search": "Search title, description, address, id…",
    "only.banner": "Showing only the {n} events of a hot-spot warning",
    "only.clear": "Show all",
    "col.colour": "Warning",
    "col.countdown": "Stage deadline",
    "col.priority": "Priority",
    "col.title": "Event",
    "col.category": "Category",
    "col.source": "Source",
    "col.township": "Township",
    "col.state": "State",
    "details.empty": "Select an event in the list to see its details",
    "details.id": "ID",
    "details.title": "Title",
    "details.state": "State",
    "details.colour": "Warning",
    "details.deadline": "Stage deadline",
    "details.source": "Source",
    "details.source_ref": "Source ref.",
    "details.category": "Category",
    "details.priority": "Priority",
    "details.place": "Place",
    "details.reporter": "Reporter",
    "details.reporter_phone": "Phone",
    "details.reporter_id": "ID number",
    "details.reveal": "Show full numbers",
    "details.reveal_tip": "Ask the hub for the reporter's full phone and ID numbers "
    "(a reason is required and audited)",
    "reveal.title": "Show full numbers",
    "reveal.prompt": "Reason (recorded in the audit log):",
    "status.revealed": "Full numbers shown, masked again in {seconds} s; this was audited",
    "error.reveal": "Showing the full numbers failed: {message}",
    "timeline.reveal": "Full number shown",
    "details.description": "Description",
    "details.assignee": "Assigned to",
    "details.reported_at": "Reported",
    "details.accepted_at": "Accepted",
    "details.escalation": "Escalation level",
    "details.extension": "Extension",
    "details.extension_value": "{days} working day(s) granted{requested}",
    "details.extension_requested": " (request pending)",
    "details.checks": "Verified / called back",
    "details.timeline": "Timeline",
    "timeline.at": "Time",
    "timeline.operator": "Operator",
    "timeline.workstation": "Workstation",
    "timeline.action": "Action",
    "timeline.states": "State change",
    "timeline.note": "Note",
    "timeline.loading": "Loading timeline…",
    "countdown.left": "{time} left",
    "countdown.over": "{time} overdue",
    "countdown.none": "—",
    "countdown.days": "{days}d ",
    "yes": "yes",
    "no": "no",
    "ack.note": "Red warning acknowledged",
    "ack.button": "Acknowledge (K)",
    "dialog.note": "Note",
    "dialog.reason": "Reason for returning (required)",
    "dialog.assignee": "Assign to (required)",
    "dialog.days": "Working days of extension",
    "dialog.required": "This field is required.",
    "dialog.title": "{action}: {title}",
    "dialog.ok": "Submit",
    "dialog.cancel": "Cancel",
    "error.act": "Action failed: {message}",
    "error.not_connected": "Not connected to the hub; the action was not sent",
    "error.timeout": "The hub did not answer in time",
    "error.not_logged_in": "Please log in first",
    "status.done": "{action} done: {title}",
    "login.title": "Log in — Command Hall",
    "login.operator": "Operator",
    "login.password": "Password",
    "login.workstation": "Workstation",
    "login.submit": "Log in",
    "login.cancel": "Cancel",
    "login.busy": "Logging in…",
    "login.bad_credentials": "Wrong operator name or password. Please try again.",
    "login.unreachable": "Cannot reach the hub: {message}",
    "login.throttled": "Too many failed logins. Please try again in {seconds} s.",
    "login.hub_busy": "The hub is busy. Please try again shortly.",
    "login.refused": "This workstation is not enrolled or was revoked: contact the administrator.",
    "login.missing": "Please enter the {field}.",
    "tooltip.shortcut": "{action} (shortcut {key})",
    "tooltip.unavailable": "Not allowed in this state or for your role",
    "error.no_dispatch": "The connected service cannot dispatch",
    "error.preview": "Could not get the dispatch suggestion: {message}",
    "error.dispatch": "Dispatch failed: {message}",
    "error.task": "Task action failed: {message}",
    "error.evidence": "Attaching evidence failed: {message}",
    "status.dispatched": "Dispatched: {title} → {person}",
    "status.task_done": "{action} done",
    "status.evidence_attached": "Evidence attached to: {title}",
    "status.no_cameras": "{title}: no cameras nearby",
    "dispatch.button": "Dispatch (P)",
    "dispatch.more": "Choose person / add note…",
    "dispatch.link": "Link video (L)",
    "mediation.button": "Video mediation (M)",
    "dispatch.tasks.core": "Dispatch tasks",
    "dispatch.none": "Not dispatched yet",
    "dispatch.dialog_title": "Dispatch — {title}",
    "dispatch.person": "To",
    "dispatch.suggested": " (suggested)",
    "dispatch.instruction": "Instruction",
    "dispatch.note": "Note (optional)",
    "dispatch.loading": "Getting the dispatch suggestion…",
    "dispatch.reason": "Reason",
    "dispatch.reason_required": "Please give a reason.",
    "dispatch.task_title": "{person} ({role}) · {state}",
    "dispatch.snapshot_attach": "Snapshot and attach to event",
    "dispatch.clip_attach": "Save 30 s and attach to event",
    "dispatch.no_event": "(select an event in the queue first)",
    "linkage.shown": "Linked video: {title} — {count} nearest cameras on the wall",
    "linkage.alarm": "Linked video: {title} — the alarm camera maximised",
    "linkage.auto": "[auto] ",
    "linkage.none": "Linked video: {title} — the nearby cameras are not configured here",
    "linkage.back": "Back to previous layout",
    "linkage.restored": "The layout before the linkage is back",
    "linkage.attaching": "Attaching the {kind} to: {title}",
    "linkage.kind_snapshot": "snapshot",
    "linkage.kind_clip": "30-second clip",
    "timeline.accept": "Accepted",
    "task.photos": "{text} ({n} photos)",
    "role.grid_leader": "grid leader",
    "role.deputy": "deputy grid leader",
    "role.village_supervisor": "village head",
    "role.township_supervisor": "township centre",
    "role.county": "county",
    "role.maintenance": "maintenance",
}

_STATE = {
    ZH: {
        EventState.ACCEPTED: "受理",
        EventState.REGISTERED: "登记",
        EventState.ROUTED: "分流",
        EventState.HANDLING: "处置",
        EventState.FEEDBACK: "反馈",
        EventState.ARCHIVED: "归档",
    },
    EN: {
        EventState.ACCEPTED: "Accepted",
        EventState.REGISTERED: "Registered",
        EventState.ROUTED: "Routed",
        EventState.HANDLING: "Handling",
        EventState.FEEDBACK: "Feedback",
        EventState.ARCHIVED: "Archived",
    },
}

_ACTION = {
    ZH: {
        Action.REGISTER: "登记",
        Action.ROUTE: "分流",
        Action.START_HANDLING: "开始处置",
        Action.FEEDBACK: "反馈",
        Action.VERIFY: "核查",
        Action.CALL_BACK: "回访",
        Action.ARCHIVE: "归档",
        Action.RETURN: "退单",
        Action.ESCALATE: "升级",
        Action.REQUEST_EXTENSION: "申请延期",
        Action.GRANT_EXTENSION: "批准延期",
        Action.REMIND: "催办",
        Action.NOTE: "备注",
    },
    EN: {
        Action.REGISTER: "Register",
        Action.ROUTE: "Route",
        Action.START_HANDLING: "Start handling",
        Action.FEEDBACK: "Feedback",
        Action.VERIFY: "Verify",
        Action.CALL_BACK: "Call back",
        Action.ARCHIVE: "Archive",
        Action.RETURN: "Return",
        Action.ESCALATE: "Escalate",
        Action.REQUEST_EXTENSION: "Request extension",
        Action.GRANT_EXTENSION: "Grant extension",
        Action.REMIND: "Reminder",
        Action.NOTE: "Note",
    },
}

_TASK_ACTION = {
    ZH: {
        "dispatch": "派单",
        "deliver": "送达",
        "read": "已读",
        "accept": "接单",
        "return": "退回",
        "arrive": "到场",
        "feedback": "反馈",
        "confirm": "确认办结",
        "rework": "退回重办",
        "cancel": "撤销",
        "reassign": "改派",
        "escalate": "超时升级",
        "evidence": "附证据",
    },
    EN: {
        "dispatch": "Dispatch",
        "deliver": "Delivered",
        "read": "Read",
        "accept": "Accept",
        "return": "Return",
        "arrive": "On site",
        "feedback": "Feedback",
        "confirm": "Confirm done",
        "rework": "Send back for rework",
        "cancel": "Cancel",
        "reassign": "Reassign",
        "escalate": "Escalated (timeout)",
        "evidence": "Evidence",
    },
}

_SOURCE = {
    ZH: {
        EventSource.GRID_REPORT: "网格上报",
        EventSource.HOTLINE_12345: "12345热线",
        EventSource.PETITION: "信访",
        EventSource.WALK_IN: "来访",
        EventSource.CAMERA_ALARM: "视频告警",
        EventSource.CAMERA_FAULT: "设备故障",
    },
    EN: {
        EventSource.GRID_REPORT: "Grid report",
        EventSource.HOTLINE_12345: "12345 hotline",
        EventSource.PETITION: "Petition",
        EventSource.WALK_IN: "Walk-in",
        EventSource.CAMERA_ALARM: "Camera alarm",
        EventSource.CAMERA_FAULT: "Camera fault",
    },
}

_PRIORITY = {
    ZH: {Priority.ROUTINE: "一般", Priority.URGENT: "紧急", Priority.EMERGENCY: "特急"},
    EN: {Priority.ROUTINE: "Routine", Priority.URGENT: "Urgent", Priority.EMERGENCY: "Emergency"},
}

_ROLE = {
    ZH: {
        Role.DUTY_OFFICER: "值班员",
        Role.SUPERVISOR: "带班领导",
        Role.ADMIN: "管理员",
        Role.SYSTEM: "系统",
    },
    EN: {
        Role.DUTY_OFFICER: "Duty officer",
        Role.SUPERVISOR: "Supervisor",
        Role.ADMIN: "Administrator",
        Role.SYSTEM: "System",
    },
}

_COLOUR = {
    ZH: {Colour.GREEN: "绿", Colour.YELLOW: "黄", Colour.RED: "红"},
    EN: {Colour.GREEN: "green", Colour.YELLOW: "yellow", Colour.RED: "red"},
}

_CATEGORY_EN = {
    "land": "Land and boundaries",
    "wages": "Unpaid wages",
    "neighbours": "Neighbours",
    "family": "Marriage and family",
    "property": "Property management",
    "demolition": "Demolition and compensation",
    "environment": "Environment",
    "safety_hazard": "Public-safety hazard",
    "camera_fault": "Camera fault",
    "other": "Other",
}


def normalise_language(value: str | None) -> str:
    """Map a language tag (zh, zh_CN, zh-CN, en, en_US, ...) to ZH or EN; unknown -> ZH."""
    if not value:
        return ZH
    v = value.strip().lower().replace("-", "_")
    if v.startswith("en"):
        return EN
    return ZH


def current_language() -> str:
    """The console's UI language (`console.kit.i18n`)."""
    return normalise_language(i18n.language())


tr = i18n.add_strings("events", _ZH, _EN)
"""The text for `key` in `lang` (default: the current language), formatted with `fields`."""


def state_name(state: EventState, lang: str | None = None) -> str:
    return _STATE[lang or current_language()][state]


def action_name(action: Action | str, lang: str | None = None) -> str:
    table = _ACTION[lang or current_language()]
    try:
        return table[Action(action)]
    except ValueError:
        if str(action).startswith("task_") or action == "evidence":  # dispatch rows
            return task_action_name(str(action), lang)
        if action == "reveal":
            return tr("timeline.reveal", lang)
        return str(action)


def task_action_name(action: str, lang: str | None = None) -> str:
    """A dispatch task action (`confirm`, or the timeline's `task_confirm`) in words."""
    key = action.removeprefix("task_")
    return _TASK_ACTION[lang or current_language()].get(key, action)


def source_name(source: EventSource, lang: str | None = None) -> str:
    return _SOURCE[lang or current_language()][source]


def priority_name(priority: Priority, lang: str | None = None) -> str:
    return _PRIORITY[lang or current_language()][priority]


def role_name(role: Role, lang: str | None = None) -> str:
    return _ROLE[lang or current_language()][role]


def colour_name(colour: Colour, lang: str | None = None) -> str:
    return _COLOUR[lang or current_language()][colour]


def category_name(category: str, lang: str | None = None) -> str:
    """Known default categories get their name; configured ones are shown as they come."""
    if (lang or current_language()) == EN:
        return _CATEGORY_EN.get(category, category)
    return DEFAULT_CATEGORIES.get(category, category)


def key_sets() -> tuple[frozenset[str], frozenset[str]]:
    """The keys of both tables (for the test that they agree)."""
    return frozenset(_ZH), frozenset(_EN)
