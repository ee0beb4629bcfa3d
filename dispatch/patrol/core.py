"""Pure rules of the camera patrol shown to people: what is wrong with a camera."""

from __future__ import annotations

from streams.patrol.types import REASON_LABELS_ZH, CameraCheck
from streams.quality.diagnosis import FAULT_LABELS_ZH, Fault


def trouble_text(check: CameraCheck) -> str:
    """What is wrong, in Chinese: the offline reason or the faults found."""
    if not check.checked:
        return "未巡检"
    if not check.online:
        return f"离线（{REASON_LABELS_ZH[check.reason]}）"
    names = []
    for f in check.faults:
        try:
            names.append(FAULT_LABELS_ZH[Fault(f)])
        except ValueError:
            names.append(f)
    return "、".join(names) or "正常"
