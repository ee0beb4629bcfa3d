"""The camera patrol's HTTP routes (API key): `POST /api/v1/camera_checks` (a patrol's
`CheckBatch`; the key must be allowed to report camera faults), `GET
/api/v1/camera_health` and `GET /api/v1/camera_checks?camera=ID&limit=N`.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ValidationError

from dispatch.domain.model import EventSource
from dispatch.events.web import FieldError, _key, error_response, field_errors
from dispatch.patrol.service import PatrolService
from streams.patrol.types import CheckBatch

API = "/api/v1"

# -- HTTP ----------------------------------------------------------------------------------

_PATROL = web.AppKey("patrol", PatrolService)


def _json(status: int, model: BaseModel) -> web.Response:
    return web.Response(
        status=status, text=model.model_dump_json(), content_type="application/json"
    )


async def post_checks(request: web.Request) -> web.Response:
    rec = await _key(request)
    if isinstance(rec, web.Response):
        return rec
    if EventSource.CAMERA_FAULT not in rec.sources:
        return error_response(
            403, field_errors_for("X-Api-Key", "key may not report camera faults")
        )
    try:
        raw = await request.read()
        batch = CheckBatch.model_validate_json(raw)
    except ValidationError as exc:
        return error_response(422, field_errors(exc))
    reply = await request.app[_PATROL].submit(batch.checks)
    return _json(201, reply)


def field_errors_for(fieldname: str, message: str) -> list[FieldError]:
    return [FieldError(field=fieldname, message=message)]


async def get_health(request: web.Request) -> web.Response:
    rec = await _key(request)
    if isinstance(rec, web.Response):
        return rec
    return _json(200, await request.app[_PATROL].health())


async def get_history(request: web.Request) -> web.Response:
    rec = await _key(request)
    if isinstance(rec, web.Response):
        return rec
    camera = request.query.get("camera", "")
    if not camera or len(camera) > 64:
        return error_response(422, field_errors_for("camera", "camera id required (1..64)"))
    try:
        limit = max(1, min(5000, int(request.query.get("limit", "200"))))
    except ValueError:
        return error_response(422, field_errors_for("limit", "not a number"))
    return _json(200, await request.app[_PATROL].history(camera, limit))


def add_patrol_routes(app: web.Application, patrol: PatrolService) -> None:
    app[_PATROL] = patrol
    app.router.add_post(f"{API}/camera_checks", post_checks)
    app.router.add_get(f"{API}/camera_checks", get_history)
    app.router.add_get(f"{API}/camera_health", get_health)
