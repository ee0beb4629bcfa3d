"""The Chinese words of dispatch tasks: state, action, level and priority names, and
the timeline line of a transition row."""

from __future__ import annotations

from collections.abc import Mapping

from dispatch.domain.model import Priority
from dispatch.tasks.core.task import EscalationLevel, TaskAction, TaskState, TaskTransition

STATE_LABELS_ZH: dict[TaskState, str] = {
    TaskState.SENT: "已派发",
    TaskState.DELIVERED: "已送达",
    TaskState.READ: "已读",
    TaskState.ACCEPTED: "已接单",
    TaskState.RETURNED: "已退回",
    TaskState.ON_SITE: "已到场",
    TaskState.FEEDBACK: "已反馈",
    TaskState.DONE: "已办结",
    TaskState.CANCELLED: "已撤销",
    TaskState.REASSIGNED: "已转派",
}
ACTION_LABELS_ZH: dict[TaskAction, str] = {
    TaskAction.DISPATCH: "派单",
    TaskAction.DELIVER: "送达",
    TaskAction.READ: "阅读",
    TaskAction.ACCEPT: "接单",
    TaskAction.RETURN: "退回",
    TaskAction.ARRIVE: "到场",
    TaskAction.FEEDBACK: "反馈",
    TaskAction.CONFIRM: "确认办结",
    TaskAction.REWORK: "退回重办",
    TaskAction.CANCEL: "撤销",
    TaskAction.REASSIGN: "改派",
    TaskAction.ESCALATE: "超时升级",
}
LEVEL_LABELS_ZH: dict[EscalationLevel, str] = {
    EscalationLevel.ASSIGNEE: "承办人",
    EscalationLevel.DEPUTY: "副网格长",
    EscalationLevel.TOWNSHIP: "乡镇综治中心",
    EscalationLevel.COUNTY: "县综治中心",
}
PRIORITY_LABELS_ZH: dict[Priority, str] = {
    Priority.ROUTINE: "一般",
    Priority.URGENT: "紧急",
    Priority.EMERGENCY: "特急",
}


def describe(row: TaskTransition, names: Mapping[str, str] | None = None) -> str:
    """A Chinese timeline line for a row, e.g. "张建国 接单" or "系统 超时升级 ↑1 → …"."""
    who = row.by.name or (names or {}).get(row.by.id, row.by.id)
    head = f"{who} {ACTION_LABELS_ZH[row.action]}"
    if row.target is not None and row.action in (TaskAction.DISPATCH, TaskAction.REASSIGN):
        target = (names or {}).get(row.target, row.target)
        head = f"{head} → {target}"
    return f"{head}：{row.note}" if row.note else head
