"""The health view's strings, Chinese first, English second (joined to console.kit.i18n)."""

from __future__ import annotations

from console.kit import i18n
from streams.patrol.types import CameraCheck

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
    "offline": "离线（{reason}）",
    "fault_sep": "、",
    "reason.": "在线",
    "reason.refused": "连接被拒绝",
    "reason.timeout": "连接超时",
    "reason.auth": "认证失败",
    "reason.not_found": "码流不存在",
    "reason.no_keyframe": "无关键帧",
    "reason.no_video": "无视频流",
    "reason.error": "其他错误",
    "reason.not_checked": "未巡检",
    "fault.black": "黑屏",
    "fault.blank": "纯色画面",
    "fault.frozen": "画面冻结",
    "fault.blur": "画面模糊",
    "fault.covered": "镜头遮挡",
    "fault.colour_cast": "偏色",
    "fault.noise": "噪声过大",
    "healthy": "正常",
    "relays": "中继（{n}）",
    "col.relay": "中继 / 摄像机",
    "col.relay_state": "状态",
    "col.upstreams": "拉流 / 连接中 / 故障 / 空闲",
    "relay.ok": "在报",
    "relay.stale": "失联（无报告）",
    "relay.unheard": "尚无报告",
    "relay.failed": "上游故障",
    "status.relays": "中继 {ok}/{n} 在报 · 拉流 {live} · 故障 {failed}",
    "status.relays_tip": "摄像机中继（hall-relay）：在报的中继、正在拉流与故障的上游码流；"
    "详见设备巡检",
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
    "offline": "offline ({reason})",
    "fault_sep": ", ",
    "reason.": "online",
    "reason.refused": "connection refused",
    "reason.timeout": "connection timed out",
    "reason.auth": "authentication failed",
    "reason.not_found": "no such stream",
    "reason.no_keyframe": "no key frame",
    "reason.no_video": "no video stream",
    "reason.error": "other error",
    "reason.not_checked": "not checked",
    "fault.black": "black picture",
    "fault.blank": "blank picture",
    "fault.frozen": "frozen picture",
    "fault.blur": "blurred",
    "fault.covered": "lens covered",
    "fault.colour_cast": "colour cast",
    "fault.noise": "too noisy",
    "healthy": "OK",
    "relays": "Relays ({n})",
    "col.relay": "Relay / camera",
    "col.relay_state": "State",
    "col.upstreams": "pulling / connecting / failed / idle",
    "relay.ok": "reporting",
    "relay.stale": "silent (no reports)",
    "relay.unheard": "no report yet",
    "relay.failed": "upstream failed",
    "status.relays": "relays {ok}/{n} reporting · pulling {live} · failed {failed}",
    "status.relays_tip": "camera relays (hall-relay): relays reporting, upstream streams "
    "pulled and failed; details in Camera health",
}


t = i18n.add_strings("health", ZH, EN)


def trouble_name(check: CameraCheck) -> str:
    """What is wrong with a camera in the console's language (the patrol core's
    `trouble_text` says it in Chinese for the hub's tickets): the offline reason or the
    faults found; unknown codes as they come."""

    def known(key: str, code: str) -> str:
        return t(key) if f"{key}" in ZH else code

    if not check.checked:
        return t("unchecked")
    if not check.online:
        return t("offline", reason=known(f"reason.{check.reason.value}", check.reason.value))
    names = [known(f"fault.{f}", str(f)) for f in check.faults]
    return t("fault_sep").join(names) or t("healthy")
