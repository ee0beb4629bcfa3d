"""Evidence on a full disk (issue 16, part 2): a live camera's clip and snapshot into an
evidence folder on a 2 MB tmpfs the test fills. Each save fails with `no_space` and a
message naming the full disk, leaves nothing behind (no partial file, no clip without its
.sha256), the stream stays live, and once the filler is gone the same stream saves a clip
whose sidecar matches."""

from __future__ import annotations

import hashlib
import time

import pytest

from streams.ingest.evidence import EvidenceError
from streams.ingest.types import CameraState
from streams.simulator import CamSim
from tests.integration.streams.ingest.test_evidence import start_live
from tests.kit.disk import SmallDisk, fill

pytestmark = pytest.mark.integration


def test_a_full_evidence_disk_is_said_leaves_nothing_and_recovers(
    camsim: CamSim, small_disk: SmallDisk
) -> None:
    folder = small_disk(2) / "evidence"
    folder.mkdir()
    cam = camsim.camera_ids[3]
    stream = start_live((camsim, cam))
    try:
        deadline = time.monotonic() + 30
        while stream.evidence_seconds() < 3.0:
            assert time.monotonic() < deadline, "the ring never held 3 s"
            time.sleep(0.2)
        filler = fill(folder.parent)
        for save in (
            lambda: stream.save_clip(folder, "东门", seconds=3),
            lambda: stream.snapshot(folder, "东门"),
        ):
            with pytest.raises(EvidenceError) as err:
                save()
            assert err.value.no_space, err.value
            assert "is full" in str(err.value)
            assert list(folder.iterdir()) == []  # nothing half-written stays
        assert stream.status().state is CameraState.LIVE  # the wall goes on
        filler.unlink()
        path = stream.save_clip(folder, "东门", seconds=2)
    finally:
        stream.stop()
    sidecar = path.with_name(path.name + ".sha256")
    assert sidecar.read_text() == f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted([path.name, sidecar.name])
