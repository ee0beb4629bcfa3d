"""The relay's spec (credentials split off the upstream URL, never on a command line) and
its STATE lines."""

from __future__ import annotations

import json

from streams.relay.server import parse_state
from streams.relay.spec import MountSpec, RelaySpec, split_credentials
from streams.relay.states import UpstreamState


def test_credentials_are_split_off_the_upstream_url() -> None:
    assert split_credentials("rtsp://ad%3Amin:p%40ss@10.0.0.1:554/cam1/sub") == (
        "rtsp://10.0.0.1:554/cam1/sub",
        "ad:min",
        "p@ss",
    )
    assert split_credentials("rtsp://10.0.0.1/x") == ("rtsp://10.0.0.1/x", None, "")


def test_spec_json_carries_mounts_with_bare_urls() -> None:
    spec = RelaySpec(
        (MountSpec("cam1", "sub", "rtsp://u:pw@10.0.0.1:554/cam1/sub"),), port=8554, idle_s=12
    )
    body = json.loads(spec.to_json())
    assert body["port"] == 8554 and body["idle_s"] == 12 and body["auth"] is None
    (mount,) = body["mounts"]
    assert mount == {
        "path": "/cam1/sub",
        "camera": "cam1",
        "stream": "sub",
        "upstream": "rtsp://10.0.0.1:554/cam1/sub",
        "user": "u",
        "password": "pw",
    }


def test_state_lines_become_typed_upstreams() -> None:
    line = "STATE " + json.dumps(
        {
            "path": "/cam1/sub",
            "camera": "cam1",
            "stream": "sub",
            "state": "failed",
            "error": "connection refused",
            "clients": 2,
            "since": 1_800_000_000.5,
            "pulls": 3,
        }
    )
    path, up, pulls = parse_state(line)
    assert path == "/cam1/sub" and pulls == 3
    assert up.state is UpstreamState.FAILED and up.clients == 2
    assert up.error == "connection refused" and up.since.tzinfo is not None
