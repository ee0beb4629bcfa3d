"""The HTTP intake API of a real hall-hub process: validation, keys, idempotency, fuzzing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.hub.process import HubProcess
from tests.kit.hub import HUB_API_KEY, StartHub
from tests.kit.tls import hub_session

pytestmark = pytest.mark.integration

KEY = {"X-Api-Key": HUB_API_KEY}
VALID: dict[str, Any] = {
    "source": "hotline_12345",
    "source_ref": "12345-0001",
    "category": "wages",
    "priority": "urgent",
    "title": "农民工讨薪",
    "description": "某工地拖欠 12 名工人工资约 36 万元。",
    "place": {"township": "t01", "village": "v01", "lon": 112.1, "lat": 34.2, "address": "东街"},
    "reporter": {"name": "王某", "phone": "13912345678", "id_number": "41010219800101123X"},
}


async def _post(
    s: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    async with s.post(
        f"{url}/api/v1/events", data=data, headers=KEY if headers is None else headers
    ) as r:
        return r.status, await r.json(content_type=None)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_post_get_list_and_repeat(hub: HubProcess) -> None:
    async def go() -> None:
        async with hub_session(hub) as s:
            st1, ev = await _post(s, hub.http_url, VALID)
            assert st1 == 201
            assert ev["state"] == "accepted" and ev["title"] == "农民工讨薪"
            assert ev["reporter"]["phone"] == "139****5678"  # masked when shown
            assert ev["reporter"]["id_number"] == "410102********123X"
            st2, again = await _post(s, hub.http_url, {**VALID, "title": "另一个标题"})
            assert st2 == 200 and again["id"] == ev["id"] and again["title"] == "农民工讨薪"
            async with s.get(f"{hub.http_url}/api/v1/events/{ev['id']}", headers=KEY) as r:
                assert r.status == 200
                assert (await r.json())["id"] == ev["id"]
            url = f"{hub.http_url}/api/v1/events?state=accepted&source=hotline_12345&limit=5"
            async with s.get(url, headers=KEY) as r:
                assert r.status == 200
                assert [e["id"] for e in (await r.json())["events"]] == [ev["id"]]

    run(go())


def test_invalid_fields_get_one_message_each(hub: HubProcess) -> None:
    async def go() -> None:
        async with hub_session(hub) as s:
            body = {**VALID, "priority": "whenever", "place": {"lon": 200, "lat": 10}}
            del body["title"]
            status, err = await _post(s, hub.http_url, body)
            assert status == 422
            fields = [e["field"] for e in err["errors"]]
            assert sorted(fields) == ["place.lon", "priority", "title"]
            assert all(e["message"] for e in err["errors"])
            status, err = await _post(s, hub.http_url, {**VALID, "category": "aliens"})
            assert status == 422 and err["errors"][0]["field"] == "category"
            assert "aliens" in err["errors"][0]["message"]
            status, err = await _post(
                s, hub.http_url, {**VALID, "source_ref": "f", "reported_at": "2099-01-01T00:00:00Z"}
            )
            assert status == 422 and err["errors"][0]["field"] == "reported_at"
            status, err = await _post(s, hub.http_url, "[1, 2")
            assert status == 400 and err["errors"][0]["field"] == "body"
            status, err = await _post(s, hub.http_url, "[1, 2]")
            assert status == 422
            status, err = await _post(s, hub.http_url, VALID, headers={})
            assert status == 401 and err["errors"][0]["field"] == "X-Api-Key"
            status, err = await _post(s, hub.http_url, VALID, headers={"X-Api-Key": "nope"})
            assert status == 401
            async with s.get(f"{hub.http_url}/api/v1/events/E-nope", headers=KEY) as r:
                assert r.status == 404
            async with s.get(f"{hub.http_url}/api/v1/events/E-nope") as r:
                assert r.status == 401
            async with s.get(f"{hub.http_url}/api/v1/events?state=lost&limit=0", headers=KEY) as r:
                assert r.status == 422
                assert {e["field"] for e in (await r.json())["errors"]} == {"state", "limit"}
            async with s.get(f"{hub.http_url}/api/v1/events?limit=x", headers=KEY) as r:
                assert r.status == 422
            # nothing of the above was stored
            async with s.get(f"{hub.http_url}/api/v1/events", headers=KEY) as r:
                assert (await r.json())["events"] == []

    run(go())


def test_key_limited_to_its_sources(tmp_path: Any, start_hub: StartHub) -> None:
    keyfile = tmp_path / "keys.toml"
    keyfile.write_text(
        '[[keys]]\nname = "grid-app"\nkey = "grid-app-key-0123456789"\nsources = ["grid_report"]\n'
    )
    proc = start_hub(extra_args=["--api-key-file", str(keyfile)])

    async def go() -> None:
        h = {"X-Api-Key": "grid-app-key-0123456789"}
        async with hub_session(proc) as s:
            status, err = await _post(s, proc.http_url, VALID, headers=h)
            assert status == 403 and err["errors"][0]["field"] == "source"
            status, _ = await _post(s, proc.http_url, {**VALID, "source": "grid_report"}, h)
            assert status == 201

    run(go())


def test_concurrent_duplicates_make_one_event(hub: HubProcess) -> None:
    async def go() -> None:
        async with hub_session(hub) as s:
            body = {**VALID, "source_ref": "dup-1"}
            results = await asyncio.gather(*(_post(s, hub.http_url, body) for _ in range(30)))
            statuses = sorted(r[0] for r in results)
            assert statuses == [200] * 29 + [201]
            assert len({r[1]["id"] for r in results}) == 1
            async with s.get(f"{hub.http_url}/api/v1/events", headers=KEY) as r:
                assert len((await r.json())["events"]) == 1

    run(go())


def test_openapi_document_describes_the_intake(hub: HubProcess) -> None:
    async def go() -> dict[str, Any]:
        async with (
            hub_session(hub) as s,
            s.get(f"{hub.http_url}/api/v1/openapi.json") as r,
        ):
            assert r.status == 200
            doc: dict[str, Any] = await r.json()
            return doc

    doc = run(go())
    assert doc["openapi"].startswith("3.")
    intake = doc["components"]["schemas"]["EventIntake"]
    assert set(intake["required"]) == {"source", "category", "title"}
    assert "/api/v1/events" in doc["paths"] and "/api/v1/events/{event_id}" in doc["paths"]


# -- fuzzing from the OpenAPI document ------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=12,
)


def _value_for(schema: dict[str, Any], schemas: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values near a (pydantic-made) JSON schema: valid-looking ones and edge cases."""
    if "$ref" in schema:
        return _value_for(schemas[schema["$ref"].rsplit("/", 1)[1]], schemas)
    if "anyOf" in schema:
        return st.one_of([_value_for(s, schemas) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | st.text(max_size=12)
    t = schema.get("type")
    if t == "string":
        n = schema.get("maxLength", 50)
        return st.text(max_size=min(n + 3, 300)) | st.just("x" * (n + 1)) | st.just("a")
    if t == "number":
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(-1000, 1000)
    if t == "integer":
        return st.integers(-(2**70), 2**70)
    if t == "boolean":
        return st.booleans() | st.just("true")
    if t == "null":
        return st.none()
    if t == "array":
        return st.lists(_value_for(schema.get("items", {}), schemas), max_size=25)
    if t == "object":
        return _object_for(schema, schemas)
    return JSON


def _object_for(schema: dict[str, Any], schemas: dict[str, Any]) -> st.SearchStrategy[Any]:
    props: dict[str, Any] = schema.get("properties", {})
    fields = {k: _value_for(v, schemas) | JSON for k, v in props.items()}
    return st.fixed_dictionaries({}, optional=fields) | JSON


def _doc() -> dict[str, Any]:
    from dispatch.events.web import openapi_document

    return openapi_document()


_SCHEMAS = _doc()["components"]["schemas"]
BODIES = _value_for(_SCHEMAS["EventIntake"], _SCHEMAS)


def test_fuzzed_intake_never_5xx(hub: HubProcess) -> None:
    seen: dict[int, int] = {}

    @settings(
        max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(body=BODIES, state=st.text(max_size=10), limit=st.text(max_size=6))
    def check(body: Any, state: str, limit: str) -> None:
        async def go() -> None:
            async with hub_session(hub) as s:
                status, reply = await _post(s, hub.http_url, body)
                seen[status] = seen.get(status, 0) + 1
                assert status < 500, reply
                assert status in (200, 201, 400, 422), (status, reply)
                if status == 422:
                    assert reply["errors"] and all(e["field"] for e in reply["errors"])
                async with s.get(
                    f"{hub.http_url}/api/v1/events",
                    params={"state": state, "limit": limit},
                    headers=KEY,
                ) as r:
                    assert r.status in (200, 422)

        run(go())

    check()
    assert seen.get(422, 0) > 0  # the strategy reaches the validation
