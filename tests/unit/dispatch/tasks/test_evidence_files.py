"""The evidence store's names and download headers (issue 12, hole 1): only names the
hub chose are ever looked up, and a sender's file name is display only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dispatch.tasks.service.blobs import BlobStore
from dispatch.tasks.uploads import (
    MP4,
    PNG,
    content_disposition,
    display_name,
    is_blob_name,
    sniff_evidence,
)

SHA = "0123456789abcdef" * 4


def test_only_hub_chosen_names_are_blob_names() -> None:
    assert is_blob_name(f"{SHA}.png") and is_blob_name(f"{SHA}.mp4")
    assert is_blob_name("ph-" + SHA[:32] + ".jpg")
    for bad in (
        "hall.db",
        f"../{SHA}.png",
        f"{SHA}.png/",
        f"{SHA}.html",
        f"{SHA.upper()}.png",
        f"{SHA[:63]}.png",
        "ph-" + SHA[:31] + ".jpg",
        f"/{SHA}.png",
        "",
    ):
        assert not is_blob_name(bad), bad


def test_the_store_serves_nothing_but_its_own_files(tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    store = BlobStore(root)
    (tmp_path / "hall.db").write_bytes(b"secret")
    assert store.path_of(None) is None
    assert store.path_of("../hall.db") is None
    assert store.path_of(str(tmp_path / "hall.db")) is None
    assert store.path_of(f"{SHA}.png") is None  # not stored yet
    path = store.write(f"{SHA}.png", b"png bytes")
    assert store.path_of(f"{SHA}.png") == path and path.read_bytes() == b"png bytes"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    link = root / f"{'f' * 64}.png"
    os.symlink(tmp_path / "hall.db", link)
    assert store.path_of(link.name) is None  # a link planted in the folder is not served
    part = store.part()
    assert store.drop_parts() == 1 and not part.exists()


def test_the_kind_is_decided_by_the_bytes() -> None:
    assert sniff_evidence("snapshot", b"\x89PNG\r\n\x1a\n" + b"\0" * 8) is PNG
    assert sniff_evidence("clip", b"\0\0\0\x20ftypisom" + b"\0" * 4) is MP4
    assert sniff_evidence("snapshot", b"<html><script>") is None
    assert sniff_evidence("clip", b"\x89PNG\r\n\x1a\n" + b"\0" * 8) is None


def test_a_senders_name_is_only_shown() -> None:
    assert display_name("/var/lib/hall/hall.db") == "hall.db"
    assert display_name("C:\\证据\\快照 1.png") == "快照 1.png"
    assert display_name('a"b\r\nc;.png') == "abc.png"
    assert display_name("..") == ""
    cd = content_disposition('现场"照片.png', "ev-1.png")
    assert cd.startswith('inline; filename="') and "\r" not in cd and "\n" not in cd
    assert cd.endswith("filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png")
    assert content_disposition("", "ev-1.png") == (
        "inline; filename=\"ev-1.png\"; filename*=UTF-8''ev-1.png"
    )
