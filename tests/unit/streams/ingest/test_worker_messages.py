"""The messages to and from a decode process survive the pipe (pickling) unchanged."""

from __future__ import annotations

import pickle
from pathlib import Path

from streams.ingest.shm_slot import SegmentRef
from streams.ingest.types import CameraState, CameraStatus, StreamProfile, StreamStats
from streams.ingest.worker_messages import OpenStream, Reply, SaveClip, StatusChanged


def test_messages_round_trip() -> None:
    msgs = [
        OpenStream(
            1,
            "cam1",
            (StreamProfile("third", "rtsp://h/x", 640, 360),),
            (320, 180),
            True,
            SegmentRef("psm_x", 4096),
        ),
        SaveClip(2, 1, Path("/tmp/ev"), "东街", 30.0),
        StatusChanged(
            1,
            CameraStatus(
                "cam1",
                CameraState.DECODER_LOST,
                "third",
                1.5,
                ("a",),
                StreamStats(fps=25.0, frames=3),
            ),
        ),
        Reply(2, error="full", error_type="EvidenceError", no_space=True),
    ]
    for m in msgs:
        assert pickle.loads(pickle.dumps(m)) == m
