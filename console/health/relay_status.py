"""The relays in one line of the window's status bar ("中继 1/1 在报 · 拉流 9 · 故障 0"), so
the relays' work is in sight without opening the health panel. The text is a pure
function of the health model's relay rows; the label follows `relays_changed`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QWidget

from console.cameras.relays import RelayRow
from console.health.model import HealthModel
from console.health.strings import t
from console.kit.plain import plain_label
from console.kit.qt_observe import follow
from streams.relay.states import UpstreamState


def relay_status_text(rows: tuple[RelayRow, ...]) -> str:
    """Reporting relays of the site's, upstreams pulled and failed; "" without relays."""
    if not rows:
        return ""
    reporting = sum(1 for r in rows if r.heard and not r.stale)
    live = sum(r.counts.get(UpstreamState.LIVE, 0) for r in rows if not r.stale)
    failed = sum(len(r.failed) for r in rows if not r.stale)
    return t("status.relays", ok=reporting, n=len(rows), live=live, failed=failed)


def install_relay_status(
    add_status_widget: Callable[[QWidget], object], model: HealthModel
) -> QLabel | None:
    """A status-bar label following the model's relays (none when the site has none)."""
    if not model.relays:
        return None
    label = plain_label(relay_status_text(model.relays))
    label.setObjectName("relay-status")
    label.setToolTip(t("status.relays_tip"))
    follow(label, model.relays_changed, lambda rows: label.setText(relay_status_text(rows)))
    add_status_widget(label)
    return label
