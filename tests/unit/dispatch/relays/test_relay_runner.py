"""hall-relay's configuration: the sample in deploy/ is valid, and a relay serves every
stream of its own cameras only, with the cameras' credentials (split off for its server)."""

from __future__ import annotations

import json
from pathlib import Path

from dispatch.domain.site import parse_site
from dispatch.relays.runner import RelayConfig, load_config, relay_spec

DEPLOY = Path(__file__).resolve().parents[4] / "deploy" / "relay.toml"


def test_the_deploy_sample_is_a_valid_config() -> None:
    cfg = load_config(DEPLOY, {"idle_s": 12.0, "relay": None})
    assert cfg.relay == "r1" and cfg.idle_s == 12.0 and cfg.hub is not None


def test_relay_spec_serves_its_cameras_streams_with_their_credentials() -> None:
    def cam(cid: str, town: str, third: bool) -> dict[str, object]:
        base = f"rtsp://10.0.0.9:554/{cid}"
        c: dict[str, object] = {
            "id": cid,
            "name": cid,
            "township": town,
            "lon": 113.0,
            "lat": 34.0,
            "credentials": "cams",
            "main": {"url": f"{base}/main", "width": 1280, "height": 720},
            "sub": {"url": f"{base}/sub", "width": 704, "height": 576},
        }
        if third:
            c["third"] = {"url": f"{base}/third", "width": 640, "height": 360}
        return c

    site = parse_site(
        {
            "name": "县",
            "credentials": {
                "cams": {"username": "admin", "password": "cam-pw"},
                "hall": {"username": "hall", "password": "relay-pw"},
            },
            "townships": [{"id": "t1", "name": "甲"}, {"id": "t2", "name": "乙"}],
            "cameras": [cam("c1", "t1", True), cam("c2", "t1", False), cam("c3", "t2", True)],
            "relays": [
                {
                    "id": "r1",
                    "url": "rtsp://relay1:8554",
                    "townships": ["t1"],
                    "credentials": "hall",
                }
            ],
        }
    )
    spec = relay_spec(site, RelayConfig(site=Path("x"), relay="r1", listen="127.0.0.1"))
    assert [m.path for m in spec.mounts] == [
        "/c1/main",
        "/c1/sub",
        "/c1/third",
        "/c2/main",
        "/c2/sub",
    ]
    assert spec.port == 8554 and spec.host == "127.0.0.1" and spec.auth == ("hall", "relay-pw")
    body = json.loads(spec.to_json())
    first = body["mounts"][0]
    assert first["upstream"] == "rtsp://10.0.0.9:554/c1/main"
    assert (first["user"], first["password"]) == ("admin", "cam-pw")
