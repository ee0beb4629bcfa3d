"""The relays' HTTP route: `POST /api/v1/relay_states` (a `RelayReport`; API key allowed to
report camera faults, as the patrol's), answered 200 with `AcceptedReply`, 404 for a
relay the site does not list."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from dispatch.domain.model import EventSource
from dispatch.events.web import FieldError, _key, error_response, field_errors
from dispatch.relays.messages import AcceptedReply
from dispatch.relays.service import RelaysService, UnknownRelay
from streams.relay.states import RelayReport

API = "/api/v1"
_RELAYS = web.AppKey("relays", RelaysService)


async def post_states(request: web.Request) -> web.Response:
    rec = await _key(request)
    if isinstance(rec, web.Response):
        return rec
    if EventSource.CAMERA_FAULT not in rec.sources:
        return error_response(
            403, [FieldError(field="X-Api-Key", message="key may not report camera states")]
        )
    try:
        report = RelayReport.model_validate_json(await request.read())
    except ValidationError as exc:
        return error_response(422, field_errors(exc))
    try:
        changed = request.app[_RELAYS].submit(report)
    except UnknownRelay as exc:
        return error_response(404, [FieldError(field="relay", message=str(exc))])
    reply = AcceptedReply(accepted=len(report.upstreams), changed=changed)
    return web.Response(text=reply.model_dump_json(), content_type="application/json")


def add_relay_routes(app: web.Application, relays: RelaysService) -> None:
    app[_RELAYS] = relays
    app.router.add_post(f"{API}/relay_states", post_states)
