"""The catalogue state: note and refresh schedule after failures (pure)."""

from __future__ import annotations

from dispatch.domain.platform import PlatformTree
from dispatch.platform import core


def test_failures_keep_the_tree_back_off_and_clear_on_success() -> None:
    tree = PlatformTree(platform="gaw", cameras=(), unplaced=())
    s = core.initial("gaw")
    assert core.next_wait(s, 600.0) == 600.0 and s.note is None
    s = core.failed(s, "devices: HTTP 503")
    assert s.tree is None and s.note is not None and "尚无目录" in s.note
    s = core.refreshed(s, tree, 1.0e9)
    waits = []
    for _ in range(8):
        s = core.failed(s, "devices: ClientConnectorError")
        waits.append(core.next_wait(s, 600.0))
    assert s.tree is tree and s.failures == 8 and s.read_at == 1.0e9
    assert waits == [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    assert s.note is not None and "显示" in s.note and "ClientConnectorError" in s.note
    assert core.next_wait(s, 60.0) == 60.0  # never later than the usual refresh
    s = core.refreshed(s, tree, 1.0e9 + 60)
    assert s.note is None and s.failures == 0 and core.next_wait(s, 600.0) == 600.0
