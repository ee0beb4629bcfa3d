"""The mediation window's strings, Chinese (default) and English, joined to
`console.kit.i18n` under `mediation.`; `t(key, **fields)` looks one up."""

from __future__ import annotations

from console.kit import i18n

ZH: dict[str, str] = {
    "role.court": "法官",
    "role.notary": "公证员",
    "role.mediator": "调解员",
    "role.party": "当事人",
    "outcome.agreement": "达成协议",
    "outcome.no_agreement": "未达成协议",
    "outcome.referred": "转诉讼",
    "input.unknown_role": "第 {n} 行：未知角色 {role!r}",
    "input.no_name": "第 {n} 行（{role}）：请填写姓名",
    "input.long_name": "第 {n} 行：姓名过长（最多 64 字）",
    "input.nobody": "请至少邀请一位参与人",
    "input.too_many": "最多邀请 {most} 位参与人（现 {n} 位）",
    "input.no_outcome": "请选择调解结果（达成协议 / 未达成协议 / 转诉讼）",
    "input.no_notes": "达成协议时请填写协议要点",
    "input.long_notes": "协议要点过长（最多 {most} 字，现 {n} 字）",
    "expired": "已于 {at} 过期",
    "valid_until": "有效至 {at}（剩 {h} 小时 {m} 分）",
    "media.new": "准备中",
    "media.connecting": "连接中",
    "media.connected": "已连接",
    "media.reconnecting": "连接中断，正在重连…",
    "media.disconnected": "已断开",
    "media.failed": "连接失败",
    "media.closed": "已关闭",
    "media.refused": "被拒绝（链接已失效或会话已结束）",
    "conn.live": "通话中",
    "conn.live_relay": "通话中（经中继服务器 TURN 转发）",
    "conn.lost": "连接中断，正在重连…",
    "msg.failed": "{what}失败：{error}",
    "msg.not_joined": "{what}失败：尚未加入调解",
    "msg.media": "媒体连接：{state}",
    "msg.not_logged_in": "未登录指挥中心服务，无法开启调解",
    "msg.opening": "正在开启调解…",
    "msg.open_failed": "开启调解失败：{error}",
    "msg.none_open": "没有进行中的调解",
    "msg.closing": "正在结束调解并归档…",
    "msg.close_failed": "结束调解失败：{error}",
    "msg.opened": "调解已开启：把链接和 PIN 发给参与人",
    "msg.ended": "调解已结束",
    "msg.archived": "调解已结束并归档：{outcome}",
    "act.admit": "准入",
    "act.remove": "移出",
    "act.record": "开始录像",
    "act.stop_record": "停止录像",
    "window_title": "远程视频调解 — {title}",
    "invite": "邀请参与人",
    "name": "姓名",
    "add_row": "添加参与方",
    "add_row_tip": "添加一行（默认当事人），最多 {most} 位参与人",
    "remove_row": "删除",
    "remove_row_tip": "删除第 {n} 行",
    "invite_count": "已选 {n} 人（最多 {most} 人）",
    "open": "开启调解并生成链接",
    "self_note": "本端画面",
    "waiting": "等待画面…",
    "recording": "● 录像中",
    "pick_outcome": "— 调解结果 —",
    "notes": "协议要点 / 备注",
    "close": "结束调解并归档",
    "participants": "参与人",
    "outcome": "调解结果",
    "speaking_mark": "【发言】",
    "muted": "（静音）",
    "online": "在线",
    "offline": "离线",
    "lobby_state": "等候准入",
    "lobby": "候场 {n} 人，请核对身份后准入",
    "copy": "复制链接和 PIN",
    "link_pin": "PIN：",
    "shown": "远程视频调解：{title}",
}

EN: dict[str, str] = {
    "role.court": "Judge",
    "role.notary": "Notary",
    "role.mediator": "Mediator",
    "role.party": "Party",
    "outcome.agreement": "Agreement",
    "outcome.no_agreement": "No agreement",
    "outcome.referred": "Referred to court",
    "input.unknown_role": "Row {n}: unknown role {role!r}",
    "input.no_name": "Row {n} ({role}): please enter a name",
    "input.long_name": "Row {n}: name too long (64 characters at most)",
    "input.nobody": "Invite at least one participant",
    "input.too_many": "At most {most} participants ({n} now)",
    "input.no_outcome": "Choose the outcome (agreement / no agreement / referred to court)",
    "input.no_notes": "An agreement needs its main points",
    "input.long_notes": "Main points too long ({most} characters at most, {n} now)",
    "expired": "Expired at {at}",
    "valid_until": "Valid until {at} ({h} h {m} min left)",
    "media.new": "preparing",
    "media.connecting": "connecting",
    "media.connected": "connected",
    "media.reconnecting": "connection lost, reconnecting…",
    "media.disconnected": "disconnected",
    "media.failed": "connection failed",
    "media.closed": "closed",
    "media.refused": "refused (the link has expired or the session has ended)",
    "conn.live": "In the call",
    "conn.live_relay": "In the call (relayed through the TURN server)",
    "conn.lost": "Connection lost, reconnecting…",
    "msg.failed": "{what} failed: {error}",
    "msg.not_joined": "{what} failed: not in the mediation yet",
    "msg.media": "Media: {state}",
    "msg.not_logged_in": "Not logged in to the hub: cannot open a mediation",
    "msg.opening": "Opening the mediation…",
    "msg.open_failed": "Opening the mediation failed: {error}",
    "msg.none_open": "No mediation in progress",
    "msg.closing": "Ending and archiving the mediation…",
    "msg.close_failed": "Ending the mediation failed: {error}",
    "msg.opened": "Mediation open: send the links and PINs to the participants",
    "msg.ended": "The mediation has ended",
    "msg.archived": "Mediation ended and archived: {outcome}",
    "act.admit": "Admit",
    "act.remove": "Remove",
    "act.record": "Start recording",
    "act.stop_record": "Stop recording",
    "window_title": "Remote video mediation — {title}",
    "invite": "Invite participants",
    "name": "Name",
    "add_row": "Add participant",
    "add_row_tip": "Add a row (a party by default), {most} participants at most",
    "remove_row": "Remove",
    "remove_row_tip": "Remove row {n}",
    "invite_count": "{n} chosen ({most} at most)",
    "open": "Open the mediation and make the links",
    "self_note": "Own picture",
    "waiting": "Waiting for the picture…",
    "recording": "● Recording",
    "pick_outcome": "— Outcome —",
    "notes": "Main points / notes",
    "close": "End and archive",
    "participants": "Participants",
    "outcome": "Outcome",
    "speaking_mark": "[speaking] ",
    "muted": " (muted)",
    "online": "online",
    "offline": "offline",
    "lobby_state": "waiting to be admitted",
    "lobby": "{n} waiting in the lobby: check who they are, then admit",
    "copy": "Copy link and PIN",
    "link_pin": "PIN: ",
    "shown": "Remote video mediation: {title}",
}

t = i18n.add_strings("mediation", ZH, EN)
"""The window's string for `key` in the current language, with `fields` filled in."""

ROLES = ("court", "notary", "mediator", "party")
OUTCOMES = ("agreement", "no_agreement", "referred")


def role_name(role: str) -> str:
    return t(f"role.{role}") if role in ROLES else role


def role_label(role: str, label: str) -> str:
    """The hub's label of a participant (法官, 当事人A …) in the console's language: the
    role's name and the label's suffix (当事人A → Party A); unknown roles as they come."""
    zh = ZH.get(f"role.{role}")
    if zh is None or not label.startswith(zh):
        return label
    suffix = label.removeprefix(zh)
    if i18n.language() == "en" and suffix:
        suffix = " " + suffix
    return role_name(role) + suffix


def outcome_name(outcome: str) -> str:
    return t(f"outcome.{outcome}") if outcome in OUTCOMES else outcome
