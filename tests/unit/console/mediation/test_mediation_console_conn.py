"""The console's mediation window: its connection line (signalling lost / media state)
and the hall's self-preview track. Real QtBridge (offscreen), real synthetic camera."""

from __future__ import annotations

import asyncio
import os

import av
from PySide6.QtWidgets import QApplication

from console.kit import i18n
from console.kit.net import NetThread, QtBridge
from console.mediation.controller import MediationController, conn_text, lost_text
from console.mediation.model import MediationModel
from console.mediation.preview import PreviewTrack
from streams.webrtc.config import SyntheticCamera


def test_connection_line_follows_signalling_and_media_state(qapp: QApplication) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = qapp
    model = MediationModel("E1")
    seen: list[str] = []
    model.changed.connect(lambda kind: seen.append(model.conn) if kind == "conn" else None)
    LOST = lost_text()
    ctl = MediationController(model, NetThread(), QtBridge(), lambda: None, "http://h")

    def step(fn: object) -> str:
        assert callable(fn)
        fn()
        app.processEvents()
        return model.conn

    assert step(lambda: ctl._on_state("connected")) == "通话中"
    assert step(lambda: ctl._on_signalling(False)) == LOST == "连接中断，正在重连…"
    assert step(lambda: ctl._on_signalling(True)) == "通话中"
    assert step(lambda: ctl._on_state("reconnecting")) == LOST
    assert step(lambda: ctl._on_state("connected")) == "通话中"
    assert seen == ["通话中", LOST, "通话中", LOST, "通话中"]


def test_preview_track_passes_every_frame_on_and_every_second_to_the_preview() -> None:
    got: list[av.VideoFrame] = []

    async def run() -> list[av.VideoFrame]:
        cam = SyntheticCamera("HALL", 160, 120)
        track = PreviewTrack(cam, got.append)
        sent = [await track.recv() for _ in range(6)]
        track.stop()
        assert cam.readyState == "ended"
        return sent

    sent = asyncio.run(asyncio.wait_for(run(), 10))
    assert len(sent) == 6 and all(isinstance(f, av.VideoFrame) for f in sent)
    assert got == [sent[1], sent[3], sent[5]]


def test_join_links_start_with_the_hubs_public_url_once_logged_in(qapp: QApplication) -> None:
    """The hub's LoginReply.public_url, not the address this console reaches it at."""
    public = [""]
    ctl = MediationController(
        MediationModel("E1"),
        NetThread(),
        QtBridge(),
        lambda: None,
        "https://10.20.1.10:443/",
        public_url=lambda: public[0],
    )
    assert ctl.join_base == "https://10.20.1.10:443"  # not logged in yet
    public[0] = "https://hub.example.gov.cn/"
    assert ctl.join_base == "https://hub.example.gov.cn"


def test_connection_line_says_when_the_media_is_relayed() -> None:
    """In the call through the TURN relay (`StarClient.selected_pairs()` has a relay
    pair), the line says so, in Chinese and English; lost is lost either way."""
    assert conn_text("connected", "x", relayed=True) == "通话中（经中继服务器 TURN 转发）"
    assert conn_text("connected", "x") == "通话中"
    assert conn_text("reconnecting", "x", relayed=True) == lost_text()
    i18n.set_language("en")
    try:
        got = conn_text("connected", "x", relayed=True)
        assert got == "In the call (relayed through the TURN server)"
    finally:
        i18n.set_language("zh_CN")
