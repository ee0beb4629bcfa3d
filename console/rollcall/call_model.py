"""Qt-free parts of the roll-call video area: `CallModel` (the call shown, its status
line (saying when the media goes through the TURN relay), its pictures and
who is speaking, emitted through `Observable`s for the `CallArea`
to follow), its strings (Chinese by default, English
through the console's language switch, `console.kit.i18n`), the call's duration text, the
choice of which call to join, and errors turned into sentences (never a traceback)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiohttp
import numpy as np
import numpy.typing as npt

from console.kit import i18n
from console.kit.observable import Observable
from dispatch.domain.wire import HubError
from dispatch.rollcall.messages import RunInfo
from streams.webrtc.client import NoRelayError, SignallingError

SPEAKING_RMS = 0.02  # the same threshold as the mediation window's 【发言】

ZH: dict[str, str] = {
    "title": "通话画面",
    "idle": "当前没有接通的点名通话",
    "waiting": "等待值班点画面…",
    "joining": "正在接入 {name} 的画面…",
    "joined": "已接入：{name}",
    "joined_relay": "已接入：{name}（经中继服务器 TURN 转发）",
    "ended": "通话已结束",
    "ended_reason": "通话已结束（{reason}）",
    "left": "已退出画面，通话继续",
    "join": "接入画面",
    "leave": "退出画面",
    "auto": "自动接入画面",
    "duration": "接通时长 {time}",
    "speaking": "【发言】{name}",
    "quiet": "{name}",
    "hall_speaking": "本端（县综治中心）正在讲话",
    "no_call": "没有可接入的通话",
    "no_http": "未配置中枢的 HTTP 地址，无法接入画面",
    "refused": "中枢拒绝接入：{message}",
    "http_refused": "中枢拒绝接入（HTTP {status}）：{message}",
    "net_failed": "连接中枢失败：{message}",
    "media_failed": "媒体连接失败：{message}",
    "no_relay": "中继服务器（TURN）连不上或拒绝了连接凭据，请联系管理员检查 TURN 服务",
    "media": "媒体连接：{state}",
    "self_waiting": "本端画面…",
    "no_camera": "本端未发送画面",
}

EN: dict[str, str] = {
    "title": "Call video",
    "idle": "No answered roll call right now",
    "waiting": "Waiting for the station's picture…",
    "joining": "Joining {name}…",
    "joined": "In the call: {name}",
    "joined_relay": "In the call: {name} (relayed through the TURN server)",
    "ended": "The call has ended",
    "ended_reason": "The call has ended ({reason})",
    "left": "Left the picture; the call goes on",
    "join": "Join picture",
    "leave": "Leave picture",
    "auto": "Join answered calls automatically",
    "duration": "Connected {time}",
    "speaking": "[speaking] {name}",
    "quiet": "{name}",
    "hall_speaking": "The hall is speaking",
    "no_call": "No call to join",
    "no_http": "The hub's HTTP address is not configured: cannot join",
    "refused": "The hub refused: {message}",
    "http_refused": "The hub refused (HTTP {status}): {message}",
    "net_failed": "Cannot reach the hub: {message}",
    "media_failed": "Media connection failed: {message}",
    "no_relay": "The relay server (TURN) is unreachable or refused the credentials; "
    "ask the administrator to check the TURN service",
    "media": "Media: {state}",
    "self_waiting": "Own picture…",
    "no_camera": "Not sending video",
}

MEDIA_ZH = {
    "new": "准备中",
    "connecting": "连接中",
    "connected": "已连接",
    "reconnecting": "网络中断，正在重连",
    "disconnected": "已断开",
    "failed": "连接失败",
    "closed": "已关闭",
    "refused": "被拒绝（通话已结束或令牌失效）",
    "no_relay": "中继服务器（TURN）不可用",
}
MEDIA_EN = {
    "new": "preparing",
    "connecting": "connecting",
    "connected": "connected",
    "reconnecting": "network lost, reconnecting",
    "disconnected": "disconnected",
    "failed": "connection failed",
    "closed": "closed",
    "no_relay": "relay server (TURN) unavailable",
    "refused": "refused (the call has ended or the token expired)",
}
ZH.update({f"media.{k}": v for k, v in MEDIA_ZH.items()})
EN.update({f"media.{k}": v for k, v in MEDIA_EN.items()})

t = i18n.add_strings("rollcall.call", ZH, EN)
"""The video area's string for `key` in the current language, with `fields` filled in."""


def media_state_text(state: str) -> str:
    """A WebRTC connection state in words (unknown states as they come)."""
    return t(f"media.{state}") if state in MEDIA_ZH else state


def duration_text(answered_at: datetime | None, now: datetime) -> str:
    """ "m:ss" (or "h:mm:ss") since the call was answered; "" when unknown."""
    if answered_at is None:
        return ""
    s = max(0, int((now - answered_at).total_seconds()))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def call_to_join(run: RunInfo | None, preferred: str | None) -> str | None:
    """The centre whose answered call to show: `preferred` (the one shown, or the one the
    officer selected) if it is in a call, else the first answered one; None if none."""
    if run is None or not run.in_call:
        return None
    return preferred if preferred in run.in_call else run.in_call[0]


def error_text(exc: BaseException) -> str:
    """A sentence for the panel, in the current language."""
    if isinstance(exc, HubError):
        return t("refused", message=exc.message)
    if isinstance(exc, NoRelayError):
        return t("no_relay")
    if isinstance(exc, SignallingError):
        return t("http_refused", status=exc.status, message=_short(exc.message))
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return t("net_failed", message=_short(str(exc)) or type(exc).__name__)
    return t("media_failed", message=_short(str(exc)) or type(exc).__name__)


def _short(text: str) -> str:
    """A server's JSON error body reduced to its message."""
    try:
        data = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return text[:200]


Frame = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class CallPhase:
    """A step of the call shown: `joining` (name), `joined` (name, answered_at) or `left`
    (`text` says why: ended, left, or failed)."""

    kind: Literal["joining", "joined", "left"]
    name: str = ""
    answered_at: datetime | None = None
    text: str = ""


class CallModel:
    """The video area's state. Observables, each emitted after its change:
    `phase_changed(CallPhase)`, `status_changed(str)`, `self_note_changed(str)`,
    `speaking_changed(bool)` (at each sound level), `frame_shown(Frame)` and
    `self_frame_shown(Frame)` (what the hall sends, only while joined)."""

    def __init__(self) -> None:
        self._phase = CallPhase("left")
        self._status = ""
        self._relayed = False
        self._speaking = False
        self._auto = True
        self.phase_changed: Observable[CallPhase] = Observable()
        self.status_changed: Observable[str] = Observable()
        self.self_note_changed: Observable[str] = Observable()
        self.speaking_changed: Observable[bool] = Observable()
        self.frame_shown: Observable[Frame] = Observable()
        self.self_frame_shown: Observable[Frame] = Observable()

    # -- reading ---------------------------------------------------------------------------
    @property
    def phase(self) -> CallPhase:
        return self._phase

    @property
    def joined(self) -> bool:
        """Joining or in the call (the picture is the call's)."""
        return self._phase.kind != "left"

    @property
    def name(self) -> str:
        return self._phase.name

    @property
    def status(self) -> str:
        return self._status

    @property
    def relayed(self) -> bool:
        """The call's media goes through the TURN relay (said with the joined line)."""
        return self._relayed

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def auto(self) -> bool:
        """Join answered calls by itself (on by default)."""
        return self._auto

    # -- changing --------------------------------------------------------------------------
    def set_auto(self, on: bool) -> None:
        self._auto = on

    def _set_phase(self, phase: CallPhase, status: str) -> None:
        self._phase = phase
        self._status = status
        self.phase_changed.emit(phase)

    def joining(self, name: str) -> None:
        self._relayed = False
        self._set_phase(CallPhase("joining", name), t("joining", name=name))

    def joined_call(self, name: str, answered_at: datetime | None) -> None:
        self._set_phase(CallPhase("joined", name, answered_at), self._joined_text(name))

    def _joined_text(self, name: str) -> str:
        return t("joined_relay" if self._relayed else "joined", name=name)

    def set_relayed(self, relayed: bool) -> None:
        """Whether the media goes through the TURN relay (known once it has connected);
        in the call, the status line says so."""
        self._relayed = relayed
        if self._phase.kind == "joined":
            self.set_status(self._joined_text(self._phase.name))

    def left(self, text: str) -> None:
        """Out of the call (ended, left, or failed): `text` says why."""
        self._speaking = False
        self._set_phase(CallPhase("left", text=text), text)

    def set_status(self, text: str) -> None:
        self._status = text
        self.status_changed.emit(text)

    def self_note(self, text: str) -> None:
        self.self_note_changed.emit(text)

    def level(self, station: float, threshold: float) -> None:
        self._speaking = station >= threshold
        self.speaking_changed.emit(self._speaking)

    def frame(self, arr: Frame) -> None:
        self.frame_shown.emit(arr)

    def self_frame(self, arr: Frame) -> None:
        if self.joined:
            self.self_frame_shown.emit(arr)
