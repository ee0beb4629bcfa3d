"""The intake API over HTTP (aiohttp): outside systems report events here.

`POST /api/v1/events`, `GET /api/v1/events/{id}`, `GET /api/v1/events?state=…`,
`GET /api/v1/openapi.json`. Every call carries an API key (`X-Api-Key`) that names
the source systems it may report for. Errors are JSON `{"errors": [{"field", "message"}]}`:
400 malformed JSON, 401 missing or wrong key, 403 a source the key may not use,
404 unknown event, 422 invalid fields (one entry per field). 201 is sent only after
the event is committed; a repeated (source, source_ref) gets 200 with the first event.
Phone and ID numbers are masked in every response.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from dispatch.db.store import ApiKeyRecord
from dispatch.domain.model import (
    Event,
    EventIntake,
    EventSource,
    EventState,
    mask_reporter,
)
from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.service import HubService, IntakeRejected
from dispatch.hub.messages import StorageState

API = "/api/v1"
MAX_BODY = 256 * 1024
MAX_LIMIT = 1000


class FieldError(BaseModel):
    model_config = FROZEN
    field: str = Field(description="dotted path of the field, or 'body'")
    message: str


class ErrorBody(BaseModel):
    model_config = FROZEN
    errors: list[FieldError]


class EventList(BaseModel):
    model_config = FROZEN
    events: list[Event]


class HealthReply(BaseModel):
    """`GET /api/v1/health`: the store's state (`dispatch.hub.storage`)."""

    model_config = FROZEN
    storage: StorageState = Field(description="ok, disk_full or db_unreachable")
    since: AwareDatetime | None = Field(description="when the store stopped being ok")
    message: str = Field(description="what an operator reads; empty when ok")
    instance: str = Field(description="this hub process (changes when it restarts)")


# -- pure helpers ---------------------------------------------------------------------


def field_errors(exc: ValidationError) -> list[FieldError]:
    """One message per field (the first pydantic gives for it), in document order."""
    out: dict[str, str] = {}
    for e in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"]) or "body"
        out.setdefault(loc, e["msg"])
    return [FieldError(field=k, message=v) for k, v in out.items()]


def error_response(status: int, errors: list[FieldError]) -> web.Response:
    return web.Response(
        status=status,
        body=ErrorBody(errors=errors).model_dump_json(),
        content_type="application/json",
    )


def _err(status: int, field: str, message: str) -> web.Response:
    return error_response(status, [FieldError(field=field, message=message)])


def _event_response(status: int, ev: Event) -> web.Response:
    return web.Response(
        status=status, body=mask_reporter(ev).model_dump_json(), content_type="application/json"
    )


_REF = "#/components/schemas/{model}"


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=name)}}}


def _error(desc: str) -> dict[str, Any]:
    return {"description": desc, "content": _json("ErrorBody")}


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (EventIntake, Event, ErrorBody, EventList, HealthReply):
        sch = model.model_json_schema(ref_template=_REF, mode="validation")
        schemas.update(sch.pop("$defs", {}))
        schemas[model.__name__] = sch
    return schemas


def _create_event_op() -> dict[str, Any]:
    return {
        "operationId": "createEvent",
        "summary": "report an event (受理)",
        "requestBody": {"required": True, "content": _json("EventIntake")},
        "responses": {
            "201": {"description": "accepted and committed", "content": _json("Event")},
            "200": {
                "description": "a repeat of (source, source_ref): the first event",
                "content": _json("Event"),
            },
            "400": _error("malformed JSON"),
            "401": _error("missing or wrong API key"),
            "403": _error("the key may not report for this source"),
            "413": {"description": "body too large"},
            "422": _error("invalid fields, one message per field"),
            "503": _error(
                "NOT accepted: the hub's disk is full or its database unreachable; retry after "
                "Retry-After seconds"
            ),
        },
    }


def _list_events_op() -> dict[str, Any]:
    return {
        "operationId": "listEvents",
        "summary": "list events, newest first",
        "parameters": [
            _q("state", {"type": "string", "enum": [s.value for s in EventState]}),
            _q("source", {"type": "string", "enum": [s.value for s in EventSource]}),
            _q("category", {"type": "string", "maxLength": 64}),
            _q("township", {"type": "string", "maxLength": 64}),
            _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
            _q("offset", {"type": "integer", "minimum": 0}),
        ],
        "responses": {
            "200": {"description": "the events", "content": _json("EventList")},
            "401": _error("missing or wrong API key"),
            "422": _error("invalid query parameters"),
        },
    }


def _get_event_op() -> dict[str, Any]:
    return {
        "operationId": "getEvent",
        "summary": "one event",
        "parameters": [
            {
                "name": "event_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "maxLength": 64},
            }
        ],
        "responses": {
            "200": {"description": "the event", "content": _json("Event")},
            "401": _error("missing or wrong API key"),
            "404": _error("no such event"),
        },
    }


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1 built from the pydantic models' JSON schemas."""
    security: list[dict[str, list[str]]] = [{"apiKey": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Command Hall intake API (综治中心事件接入)",
            "version": "1.0.0",
            "description": "Outside systems (grid app, 12345 hotline, petitions) report events.",
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
        },
        "security": security,
        "paths": {
            f"{API}/events": {"post": _create_event_op(), "get": _list_events_op()},
            f"{API}/events/{{event_id}}": {"get": _get_event_op()},
            f"{API}/health": {
                "get": {
                    "operationId": "health",
                    "security": [],
                    "summary": "the hub's store: 200 when ok, 503 when it takes no events",
                    "responses": {
                        "200": {"description": "ok", "content": _json("HealthReply")},
                        "503": {"description": "not ok", "content": _json("HealthReply")},
                    },
                }
            },
            f"{API}/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "security": [],
                    "summary": "this document",
                    "responses": {"200": {"description": "OpenAPI document"}},
                }
            },
        },
    }


def _q(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _int_param(raw: str | None, name: str, lo: int, hi: int, default: int) -> int:
    if raw is None:
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ValueError(f"{name}: not an integer: {raw!r}") from None
    if not lo <= v <= hi:
        raise ValueError(f"{name}: must be between {lo} and {hi}")
    return v


# -- the app --------------------------------------------------------------------------

KeyLookup = Callable[[str], Awaitable[ApiKeyRecord | None]]
_SERVICE = web.AppKey("service", HubService)


async def _key(request: web.Request) -> ApiKeyRecord | web.Response:
    key = request.headers.get("X-Api-Key", "")
    if not key:
        return _err(401, "X-Api-Key", "missing API key (缺少接入密钥)")
    svc = request.app[_SERVICE]
    if len(key) > 256:
        return _err(401, "X-Api-Key", "wrong API key (接入密钥无效)")
    rec = await _lookup_key(svc, key)
    if rec is None:
        return _err(401, "X-Api-Key", "wrong API key (接入密钥无效)")
    return rec


_KEY_TTL_S = 30.0
_key_cache: dict[tuple[int, str], tuple[float, ApiKeyRecord]] = {}


async def _lookup_key(svc: HubService, key: str) -> ApiKeyRecord | None:
    """Valid keys are cached for a short while (one DB look-up per key, not per request)."""
    now = time.monotonic()
    hit = _key_cache.get((id(svc), key))
    if hit is not None and hit[0] > now:
        return hit[1]
    rec = await asyncio.to_thread(svc.store.api_key, key)
    if rec is not None:
        if len(_key_cache) > 1000:
            _key_cache.clear()
        _key_cache[(id(svc), key)] = (now + _KEY_TTL_S, rec)
    return rec


async def post_event(request: web.Request) -> web.Response:
    rec = await _key(request)
    if isinstance(rec, web.Response):
        return rec
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _err(413, "body", f"body larger than {MAX_BODY} bytes")
    try:
        intake = EventIntake.model_validate_json(raw)
    except ValidationError as exc:
        bad_json = [e for e in exc.errors(include_url=False) if e["type"] == "json_invalid"]
        if bad_json:
            return _err(400, "body", f"malformed JSON (JSON 格式错误): {bad_json[0]['msg']}")
        return error_response(422, field_errors(exc))
    if intake.source not in rec.sources:
        allowed = ", ".join(sorted(s.value for s in rec.sources))
        return _err(
            403,
            "source",
            f"key {rec.name!r} may not report for {intake.source.value} (allowed: {allowed})",
        )
    svc = request.app[_SERVICE]
    try:
        ev, created = await svc.intake(intake)
    except IntakeRejected as exc:
        return _err(422, exc.field, exc.message)
    except HubError as exc:
        if exc.code is not ErrorCode.BUSY:
            raise
        return _unavailable(exc.message, exc.retry_after_s)  # not accepted: retry later
    return _event_response(201 if created else 200, ev)


def _unavailable(message: str, retry_after_s: float) -> web.Response:
    resp = _err(503, "hub", message)
    resp.headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    return resp


async def health(request: web.Request) -> web.Response:
    """The store's state for monitoring (no key: it says nothing about any event)."""
    st = request.app[_SERVICE].storage
    body = HealthReply(
        storage=st.state,
        since=st.since,
        message=st.message,
        instance=request.app[_SERVICE].instance,
    )
    return web.Response(
        status=200 if st.state == "ok" else 503,
        body=body.model_dump_json(),
        content_type="application/json",
    )


async def get_event(request: web.Request) -> web.Response:
    rec = await _key(request)
    if isinstance(rec, web.Response):
        return rec
    event_id = request.match_info["event_id"]
    ev = await request.app[_SERVICE].get_event(event_id) if len(event_id) <= 64 else None
    if ev is None:
        return _err(404, "event_id", f"no event {event_id!r} (事件不存在)")
    return _event_response(200, ev)


async def list_events(request: web.Request) -> web.Response:
    rec = await _key(request)
    if isinstance(rec, web.Response):
        return rec
    q = request.query
    errors: list[FieldError] = []
    state = source = None
    try:
        state = EventState(q["state"]) if "state" in q else None
    except ValueError:
        errors.append(FieldError(field="state", message=f"unknown state {q['state']!r}"))
    try:
        source = EventSource(q["source"]) if "source" in q else None
    except ValueError:
        errors.append(FieldError(field="source", message=f"unknown source {q['source']!r}"))
    limit = offset = 0
    try:
        limit = _int_param(q.get("limit"), "limit", 1, MAX_LIMIT, 100)
    except ValueError as exc:
        errors.append(FieldError(field="limit", message=str(exc)))
    try:
        offset = _int_param(q.get("offset"), "offset", 0, 10**9, 0)
    except ValueError as exc:
        errors.append(FieldError(field="offset", message=str(exc)))
    for name in ("category", "township"):
        if len(q.get(name, "")) > 64:
            errors.append(FieldError(field=name, message="at most 64 characters"))
    if errors:
        return error_response(422, errors)
    svc = request.app[_SERVICE]
    evs = await asyncio.to_thread(
        svc.store.list_events,
        state=state,
        source=source,
        category=q.get("category"),
        township=q.get("township"),
        limit=limit,
        offset=offset,
    )
    body = EventList(events=[mask_reporter(e) for e in evs]).model_dump_json()
    return web.Response(body=body, content_type="application/json")


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


@web.middleware
async def _json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """aiohttp's own 404/405/413 as JSON error bodies too."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 500:
            raise
        return _err(exc.status, "request", exc.reason)


def make_app(service: HubService) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_json_errors])
    app[_SERVICE] = service
    app.router.add_post(f"{API}/events", post_event)
    app.router.add_get(f"{API}/events", list_events)
    app.router.add_get(f"{API}/events/{{event_id}}", get_event)
    app.router.add_get(f"{API}/openapi.json", openapi)
    app.router.add_get(f"{API}/health", health)
    return app
