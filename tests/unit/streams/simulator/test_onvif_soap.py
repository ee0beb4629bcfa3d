"""The simulator's ONVIF service checks WS-Security digests like a camera (pure parts)."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest

from streams.simulator.onvif_device import OnvifDevice, Profile
from streams.simulator.onvif_soap import DIGEST, SOAP, WSSE, WSU, duration_s
from streams.simulator.ptz_motion import PtzHead


def request(
    op: str,
    user: str = "admin",
    password: str = "pw",
    *,
    created: datetime | None = None,
    nonce: bytes | None = None,
    body_extra: str = "",
) -> bytes:
    nonce = nonce or os.urandom(16)
    # the time of the call, not of the import: a whole run collects 30 min before this runs
    stamp = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    digest = base64.b64encode(hashlib.sha1(nonce + stamp.encode() + password.encode()).digest())
    inner = op if op.startswith("<") else f"<{op}>{body_extra}</{op.split()[0]}>"
    return (
        f'<s:Envelope xmlns:s="{SOAP}" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" '
        'xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" '
        'xmlns:tt="http://www.onvif.org/ver10/schema" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<s:Header><wsse:Security><wsse:UsernameToken><wsse:Username>{user}</wsse:Username>"
        f'<wsse:Password Type="{DIGEST}">{digest.decode()}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{stamp}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>"
        f"<s:Body>{inner}</s:Body></s:Envelope>"
    ).encode()


@pytest.fixture
def device() -> OnvifDevice:
    prof = Profile("prof_sub", "sub", 704, 576, "rtsp://127.0.0.1:1/cam1/sub")
    return OnvifDevice(
        "cam", PtzHead(), [prof], host="127.0.0.1", auth=("admin", "pw"), clock=lambda: 0.0
    )


def test_a_good_digest_is_served(device: OnvifDevice) -> None:
    status, body = device.handle(
        "/onvif/ptz_service",
        request(
            "tptz:ContinuousMove",
            body_extra="<tptz:ProfileToken>prof_sub</tptz:ProfileToken>"
            '<tptz:Velocity><tt:PanTilt x="0.5" y="0"/></tptz:Velocity>',
        ),
    )
    assert status == 200, body
    assert device.head.moving(0.0)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"password": "wrong"}, b"Sender not authorized"),
        ({"user": "root"}, b"Sender not authorized"),
        ({"created": datetime.now(UTC) - timedelta(hours=1)}, b"off the clock"),
    ],
)
def test_bad_tokens_are_refused_with_not_authorized(
    device: OnvifDevice, kwargs: dict[str, object], reason: bytes
) -> None:
    status, body = device.handle("/onvif/device_service", request("tds:GetServices", **kwargs))  # type: ignore[arg-type]
    assert status == 400
    assert b"ter:NotAuthorized" in body and reason in body


def test_a_replayed_nonce_is_refused_and_time_needs_no_token(device: OnvifDevice) -> None:
    nonce = os.urandom(16)
    assert device.handle("/onvif/device_service", request("tds:GetServices", nonce=nonce))[0] == 200
    status, body = device.handle("/onvif/device_service", request("tds:GetServices", nonce=nonce))
    assert status == 400 and b"replayed" in body
    bare = (
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body><GetSystemDateAndTime '
        'xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>'
    ).encode()
    assert device.handle("/onvif/device_service", bare)[0] == 200
    no_token = bare.replace(b"GetSystemDateAndTime", b"GetServices")
    assert device.handle("/onvif/device_service", no_token)[0] == 400


def test_bad_input_gets_a_clear_fault(device: OnvifDevice) -> None:
    assert device.handle("/onvif/device_service", b"<not xml")[0] == 400
    status, body = device.handle(
        "/onvif/ptz_service",
        request("tptz:GotoPreset", body_extra="<tptz:ProfileToken>nope</tptz:ProfileToken>"),
    )
    assert status == 400 and b"ter:NoProfile" in body
    assert device.handle("/elsewhere", b"")[0] == 404
    assert duration_s("PT1.5S") == 1.5 and duration_s("PT1M") == 60.0 and duration_s(None) is None
