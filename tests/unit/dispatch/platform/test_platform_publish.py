"""The hub publishes a platform's tree when what a console shows changes (cameras,
placing, the note), with its own seq from the wall clock; a refresh that only moved
`read_at` publishes nothing."""

from __future__ import annotations

import asyncio

from dispatch.client.wire import decode_published
from dispatch.domain.platform import PlatformCamera, PlatformTree
from dispatch.platform import core
from dispatch.platform.messages import PlatformTreeChanged
from dispatch.platform.service import PlatformsService


def tree(*names: str) -> PlatformTree:
    cams = tuple(
        PlatformCamera(f"gaw.d.{n}", n, "gaw", "d", n, "t1", None, True, None, None) for n in names
    )
    return PlatformTree("gaw", cams, ())


def test_changes_are_published_with_seq_and_a_mere_reread_is_not() -> None:
    frames: list[bytes] = []
    svc = PlatformsService(None, publish=frames.append, wall=lambda: 1_700_000_000.0)
    asyncio.run(svc.start())
    assert svc.seq == 1_700_000_000_000
    state = core.refreshed(core.initial("gaw"), tree("a"), read_at=10.0)
    svc._changed(state)
    svc._changed(core.refreshed(state, tree("a"), read_at=20.0))  # same tree read again
    down = core.failed(core.refreshed(state, tree("a"), read_at=20.0), "连接被拒绝")
    svc._changed(down)
    svc._changed(core.refreshed(down, tree("a", "b"), read_at=30.0))
    msgs = [decode_published(f) for f in frames]
    assert all(isinstance(m, PlatformTreeChanged) for m in msgs)
    changed = [m for m in msgs if isinstance(m, PlatformTreeChanged)]
    assert [m.seq for m in changed] == [1_700_000_000_001, 1_700_000_000_002, 1_700_000_000_003]
    assert [len(m.tree.cameras) for m in changed] == [1, 1, 2]
    assert [m.tree.note is not None for m in changed] == [False, True, False]
    assert svc.seq == changed[-1].seq
