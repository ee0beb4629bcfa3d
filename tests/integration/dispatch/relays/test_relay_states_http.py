"""`POST /api/v1/relay_states` on a real hub: no key 401, a malformed report 422, a relay
the site does not list 404 (the demo hub has no site relays)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest

from dispatch.hub.process import HubProcess
from dispatch.relays.runner import HubReporter
from streams.relay.states import RelayReport
from tests.kit.hub import HUB_API_KEY

pytestmark = pytest.mark.integration


def _post(hub: HubProcess, body: bytes, key: str | None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-Api-Key"] = key
    req = urllib.request.Request(
        f"{hub.http_url}/api/v1/relay_states", data=body, method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def test_relay_states_route_refuses_what_it_must(hub: HubProcess) -> None:
    report = RelayReport(relay="r1", at=datetime.now(UTC), upstreams=[])
    body = report.model_dump_json().encode()
    assert _post(hub, body, None)[0] == 401
    assert _post(hub, b'{"relay": "r1"}', HUB_API_KEY)[0] == 422
    status, text = _post(hub, body, HUB_API_KEY)
    assert status == 404 and "r1" in json.loads(text)["errors"][0]["message"]
    reporter = HubReporter(hub.http_url, HUB_API_KEY, ssl_context=hub.ssl_context())
    assert not reporter.post(report) and "HTTP 404" in reporter.last_error
