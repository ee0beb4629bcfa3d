"""What the relays say of each camera and of themselves, Qt-free (the tree's rows and
tooltips, the health panel's relay table), with the strings that say it.

From the console's view of the relays (`HubClient.relays`: relay id → its last
`RelayReport`, and which relays went silent): per camera the most telling of its streams
at its relay (live, then failed, connecting, idle; a silent relay's cameras: unknown),
and per relay of the site its upstreams counted by state with the failed ones listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from console.kit import i18n
from dispatch.domain.relay import relay_for
from dispatch.domain.site import Site
from streams.relay.states import RelayReport, Upstream, UpstreamState

ZH = {
    "state.idle": "空闲（无人观看）",
    "state.connecting": "连接中",
    "state.live": "拉流中",
    "state.failed": "故障",
    "state.stale": "失联（无报告）",
    "state.unheard": "尚无报告",
    "tip": "经中继 {relay}：{state}",
    "tip.clients": "，{n} 路观看",
    "tip.error": "\n上游错误：{error}",
    "tip.direct": "直连摄像机（无中继）",
    "row.failed": "{text} · 中继故障",
    "row.stale": "{text} · 中继失联",
}
EN = {
    "state.idle": "idle (nobody watching)",
    "state.connecting": "connecting",
    "state.live": "pulling",
    "state.failed": "failed",
    "state.stale": "silent (no reports)",
    "state.unheard": "no report yet",
    "tip": "through relay {relay}: {state}",
    "tip.clients": ", {n} watching",
    "tip.error": "\nupstream error: {error}",
    "tip.direct": "camera pulled directly (no relay)",
    "row.failed": "{text} · relay failed",
    "row.stale": "{text} · relay silent",
}
t = i18n.add_strings("relays", ZH, EN)

RANK = {
    UpstreamState.LIVE: 3,
    UpstreamState.FAILED: 2,
    UpstreamState.CONNECTING: 1,
    UpstreamState.IDLE: 0,
}


@dataclass(frozen=True, slots=True)
class CameraRelay:
    """A camera at its relay: the most telling of its streams (None: the relay is silent)."""

    relay: str
    state: UpstreamState | None
    error: str = ""
    clients: int = 0


@dataclass(frozen=True, slots=True)
class RelayRow:
    """One relay of the site in the health panel."""

    relay: str
    heard: bool  # it has reported since the console logged in
    stale: bool  # it stopped reporting
    counts: Mapping[UpstreamState, int]
    failed: tuple[Upstream, ...]


def camera_relays(
    view: Mapping[str, RelayReport], stale: Callable[[str], bool] = lambda _r: False
) -> dict[str, CameraRelay]:
    out: dict[str, CameraRelay] = {}
    for relay, report in view.items():
        if stale(relay):
            for up in report.upstreams:
                out[up.camera] = CameraRelay(relay, None)
            continue
        for up in report.upstreams:
            have = out.get(up.camera)
            if have is None or (have.state is not None and RANK[up.state] > RANK[have.state]):
                out[up.camera] = CameraRelay(relay, up.state, up.error, up.clients)
            elif have.state is up.state:
                out[up.camera] = CameraRelay(relay, up.state, have.error, have.clients + up.clients)
    return out


def relay_rows(
    relays: Iterable[str],
    view: Mapping[str, RelayReport],
    stale: Callable[[str], bool] = lambda _r: False,
) -> tuple[RelayRow, ...]:
    """Every relay of the site, in site order, whether it reported or not."""
    rows = []
    for relay in relays:
        report = view.get(relay)
        ups = report.upstreams if report is not None else []
        rows.append(
            RelayRow(
                relay=relay,
                heard=report is not None,
                stale=stale(relay),
                counts=Counter(up.state for up in ups),
                failed=tuple(up for up in ups if up.state is UpstreamState.FAILED),
            )
        )
    return tuple(rows)


def site_via(site: Site) -> dict[str, str]:
    """Camera -> the relay the site pulls it through (cameras without one left out)."""
    out = {}
    for cam in site.cameras:
        relay = relay_for(site, cam)
        if relay is not None:
            out[cam.id] = relay.id
    return out


def state_name(state: UpstreamState | None) -> str:
    return t("state.stale") if state is None else t(f"state.{state.value}")


def tooltip(relay: str | None, cam: CameraRelay | None) -> str:
    """A camera row's tooltip: which relay (`relay`: the site's, None: pulled directly),
    in what state, how many watch, the error."""
    if relay is None:
        return t("tip.direct")
    if cam is None:
        return t("tip", relay=relay, state=t("state.unheard"))
    text = t("tip", relay=cam.relay, state=state_name(cam.state))
    if cam.state is UpstreamState.LIVE and cam.clients:
        text += t("tip.clients", n=cam.clients)
    if cam.state is UpstreamState.FAILED and cam.error:
        text += t("tip.error", error=cam.error)
    return text


def row_text(text: str, cam: CameraRelay | None) -> str:
    """A camera row's text, marked when its relay cannot pull it or went silent."""
    if cam is None:
        return text
    if cam.state is None:
        return t("row.stale", text=text)
    if cam.state is UpstreamState.FAILED:
        return t("row.failed", text=text)
    return text
