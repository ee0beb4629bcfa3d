"""The simulator's ONVIF device: device, media and PTZ services over SOAP/HTTP.

One `OnvifDevice` per PTZ camera, on its own HTTP port (a `ThreadingHTTPServer` in a
daemon thread; `start()`/`stop()` safe twice). It answers the operations a console
needs: device GetSystemDateAndTime (the only one without credentials, as ONVIF says),
GetDeviceInformation, GetServices, GetCapabilities; media GetProfiles, GetStreamUri;
PTZ ContinuousMove, Stop, AbsoluteMove, RelativeMove, GetPresets, SetPreset,
GotoPreset, RemovePreset, GetStatus. Commands drive the camera's `PtzHead`, which the
RTSP picture (`ptz_picture`) reads, so a move shows in the stream.
Standard library only (runs under the system Python, loaded by path).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.etree.ElementTree import Element

if __package__:
    from streams.simulator import onvif_soap as soap
    from streams.simulator import ptz_motion as motion
else:  # loaded by path under the system Python
    soap = importlib.import_module("hall_camsim_onvif_soap")
    motion = importlib.import_module("hall_camsim_ptz_motion")

PATHS = {
    "/onvif/device_service": soap.TDS,
    "/onvif/media_service": soap.TRT,
    "/onvif/ptz_service": soap.TPTZ,
}
MAX_BODY = 256 * 1024
PT_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"
Z_SPACE = "http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"


@dataclass(frozen=True, slots=True)
class Profile:
    token: str
    name: str
    width: int
    height: int
    uri: str
    codec: str = "H264"


def _float(el: Element | None, attr: str, default: float = 0.0) -> float:
    if el is None or el.get(attr) is None:
        return default
    try:
        return float(el.get(attr, ""))
    except ValueError:
        raise soap.SoapFault(
            f"{attr}={el.get(attr)!r} is not a number", "ter:InvalidArgVal"
        ) from None


def _vector(el: Element | None) -> tuple[float, float, float, bool, bool]:
    """(pan, tilt, zoom, has pan/tilt, has zoom) of a PTZVector or PTZSpeed element."""
    if el is None:
        return 0.0, 0.0, 0.0, False, False
    pt = el.find(soap.q(soap.TT, "PanTilt"))
    z = el.find(soap.q(soap.TT, "Zoom"))
    return _float(pt, "x"), _float(pt, "y"), _float(z, "x"), pt is not None, z is not None


def _position_xml(tag: str, p: motion.Position) -> str:
    return (
        f'<{tag}><tt:PanTilt x="{p.pan:.4f}" y="{p.tilt:.4f}" space="{PT_SPACE}"/>'
        f'<tt:Zoom x="{p.zoom:.4f}" space="{Z_SPACE}"/></{tag}>'
    )


def for_camera(camera: Any) -> OnvifDevice:
    """The ONVIF device of a started PTZ camera of `_server.py` (its `head`, `mounts`,
    host, RTSP port, name and credentials): a profile per stream."""
    profiles = [
        Profile(
            f"prof_{m.name}",
            m.name,
            m.width,
            m.height,
            f"rtsp://{camera.host}:{camera.port}{m.path}",
            "H265" if m.codec == "h265" else "H264",
        )
        for m in camera.mounts
    ]
    return OnvifDevice(camera.name, camera.head, profiles, host=camera.host, auth=camera.auth)


class OnvifDevice:
    """The ONVIF face of one camera. `auth` None: no credentials asked."""

    def __init__(
        self,
        name: str,
        head: motion.PtzHead,
        profiles: list[Profile],
        *,
        host: str,
        port: int = 0,
        auth: tuple[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name, self.head, self.profiles = name, head, {p.token: p for p in profiles}
        self.host, self.port = host, port
        self.checker = soap.TokenChecker(*auth) if auth else None
        self.clock = clock
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.moves = 0  # commands that moved the head (for the control line `ptz`)

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        if self._server is not None:
            return
        device = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                status, body = device.handle(self.path, self._body())
                self.send_response(status)
                self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes | None:
                try:
                    size = int(self.headers.get("Content-Length", "0"))
                except ValueError:
                    return None
                return self.rfile.read(size) if 0 <= size <= MAX_BODY else None

            def log_message(self, *_a: object) -> None:
                pass

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, name=f"onvif-{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    @property
    def xaddr(self) -> str:
        return f"http://{self.host}:{self.port}/onvif/device_service"

    def _addr(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    # -- requests ---------------------------------------------------------------------
    def handle(self, path: str, body: bytes | None) -> tuple[int, bytes]:
        """(HTTP status, SOAP body) for one POST."""
        if path.split("?")[0] not in PATHS:
            return 404, soap.fault_xml(
                soap.SoapFault(f"no service at {path}", "ter:ActionNotSupported")
            )
        if body is None:
            return 413, soap.fault_xml(soap.SoapFault("request too large", "ter:InvalidArgVal"))
        try:
            security, op = soap.parse_request(body)
            ns, _, name = op.tag[1:].partition("}")
            if not (ns == soap.TDS and name == "GetSystemDateAndTime") and self.checker:
                self.checker.check(security, datetime.now(UTC))
            handler = getattr(self, f"_op_{name}", None)
            if ns not in PATHS.values() or handler is None:
                raise soap.SoapFault(f"{name} is not supported", "ter:ActionNotSupported")
            return 200, soap.envelope(handler(op))
        except soap.SoapFault as fault:
            return fault.http_status, soap.fault_xml(fault)
        except motion.PtzCommandError as exc:
            return 400, soap.fault_xml(soap.SoapFault(str(exc), "ter:InvalidArgVal"))

    def _profile(self, op: Element) -> Profile:
        token = op.findtext(soap.q(op.tag[1:].partition("}")[0], "ProfileToken"), "")
        profile = self.profiles.get(token.strip())
        if profile is None:
            raise soap.SoapFault(f"no profile {token!r}", "ter:InvalidArgVal", "ter:NoProfile")
        return profile

    # -- device -----------------------------------------------------------------------
    def _op_GetSystemDateAndTime(self, _op: Element) -> str:
        n = datetime.now(UTC)
        return (
            "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
            "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
            f"<tt:UTCDateTime><tt:Time><tt:Hour>{n.hour}</tt:Hour><tt:Minute>{n.minute}</tt:Minute>"
            f"<tt:Second>{n.second}</tt:Second></tt:Time><tt:Date><tt:Year>{n.year}</tt:Year>"
            f"<tt:Month>{n.month}</tt:Month><tt:Day>{n.day}</tt:Day></tt:Date></tt:UTCDateTime>"
            "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
        )

    def _op_GetDeviceInformation(self, _op: Element) -> str:
        return (
            "<tds:GetDeviceInformationResponse><tds:Manufacturer>hall-camsim</tds:Manufacturer>"
            f"<tds:Model>PTZ {soap.text(self.name)}</tds:Model>"
            "<tds:FirmwareVersion>1.0</tds:FirmwareVersion>"
            f"<tds:SerialNumber>SIM{self.port}</tds:SerialNumber><tds:HardwareId>sim</tds:HardwareId>"
            "</tds:GetDeviceInformationResponse>"
        )

    def _op_GetServices(self, _op: Element) -> str:
        rows = "".join(
            f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{self._addr(path)}"
            "</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>0</tt:Minor></tds:Version>"
            "</tds:Service>"
            for path, ns in PATHS.items()
        )
        return f"<tds:GetServicesResponse>{rows}</tds:GetServicesResponse>"

    def _op_GetCapabilities(self, _op: Element) -> str:
        return (
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Device><tt:XAddr>{self._addr('/onvif/device_service')}</tt:XAddr></tt:Device>"
            f"<tt:Media><tt:XAddr>{self._addr('/onvif/media_service')}</tt:XAddr>"
            "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>"
            "<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
            "</tt:StreamingCapabilities></tt:Media>"
            f"<tt:PTZ><tt:XAddr>{self._addr('/onvif/ptz_service')}</tt:XAddr></tt:PTZ>"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>"
        )

    # -- media ------------------------------------------------------------------------
    def _op_GetProfiles(self, _op: Element) -> str:
        rows = "".join(
            f'<trt:Profiles token="{soap.text(p.token)}" fixed="true">'
            f"<tt:Name>{soap.text(p.name)}</tt:Name>"
            f'<tt:VideoEncoderConfiguration token="enc_{soap.text(p.token)}">'
            f"<tt:Name>{soap.text(p.name)}</tt:Name><tt:UseCount>1</tt:UseCount>"
            f"<tt:Encoding>{p.codec}</tt:Encoding><tt:Resolution><tt:Width>{p.width}</tt:Width>"
            f"<tt:Height>{p.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>"
            "</tt:VideoEncoderConfiguration>"
            '<tt:PTZConfiguration token="ptz0"><tt:Name>ptz</tt:Name><tt:UseCount>1</tt:UseCount>'
            "<tt:NodeToken>node0</tt:NodeToken></tt:PTZConfiguration></trt:Profiles>"
            for p in self.profiles.values()
        )
        return f"<trt:GetProfilesResponse>{rows}</trt:GetProfilesResponse>"

    def _op_GetStreamUri(self, op: Element) -> str:
        p = self._profile(op)
        return (
            f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{soap.text(p.uri)}</tt:Uri>"
            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
            "</trt:MediaUri></trt:GetStreamUriResponse>"
        )

    # -- PTZ --------------------------------------------------------------------------
    def _ptz(self, op: Element, tag: str) -> Element | None:
        self._profile(op)
        return op.find(soap.q(soap.TPTZ, tag))

    def _op_ContinuousMove(self, op: Element) -> str:
        pan, tilt, zoom, _, _ = _vector(self._ptz(op, "Velocity"))
        timeout = soap.duration_s(op.findtext(soap.q(soap.TPTZ, "Timeout")))
        self.head.continuous(pan, tilt, zoom, self.clock(), timeout)
        self.moves += 1
        return "<tptz:ContinuousMoveResponse/>"

    def _op_Stop(self, op: Element) -> str:
        self._profile(op)
        pt = op.findtext(soap.q(soap.TPTZ, "PanTilt"), "true").strip() != "false"
        z = op.findtext(soap.q(soap.TPTZ, "Zoom"), "true").strip() != "false"
        self.head.stop(self.clock(), pan_tilt=pt, zoom=z)
        return "<tptz:StopResponse/>"

    def _op_AbsoluteMove(self, op: Element) -> str:
        now = self.clock()
        cur = self.head.position(now)
        pan, tilt, zoom, has_pt, has_z = _vector(self._ptz(op, "Position"))
        target = motion.Position(
            pan if has_pt else cur.pan, tilt if has_pt else cur.tilt, zoom if has_z else cur.zoom
        )
        self.head.absolute(target, now)
        self.moves += 1
        return "<tptz:AbsoluteMoveResponse/>"

    def _op_RelativeMove(self, op: Element) -> str:
        pan, tilt, zoom, _, _ = _vector(self._ptz(op, "Translation"))
        self.head.relative(motion.Position(pan, tilt, zoom), self.clock())
        self.moves += 1
        return "<tptz:RelativeMoveResponse/>"

    def _op_GetPresets(self, op: Element) -> str:
        self._profile(op)
        rows = "".join(
            f'<tptz:Preset token="{soap.text(p.token)}"><tt:Name>{soap.text(p.name)}</tt:Name>'
            f"{_position_xml('tt:PTZPosition', p.position)}</tptz:Preset>"
            for p in self.head.list_presets()
        )
        return f"<tptz:GetPresetsResponse>{rows}</tptz:GetPresetsResponse>"

    def _op_SetPreset(self, op: Element) -> str:
        self._profile(op)
        name = op.findtext(soap.q(soap.TPTZ, "PresetName"), "").strip()
        token = op.findtext(soap.q(soap.TPTZ, "PresetToken"))
        if len(name) > 64:
            raise soap.SoapFault("preset name longer than 64 characters", "ter:InvalidArgVal")
        new = self.head.set_preset(name, self.clock(), token.strip() if token else None)
        return (
            f"<tptz:SetPresetResponse><tptz:PresetToken>{new}</tptz:PresetToken>"
            "</tptz:SetPresetResponse>"
        )

    def _op_GotoPreset(self, op: Element) -> str:
        self._profile(op)
        token = op.findtext(soap.q(soap.TPTZ, "PresetToken"), "").strip()
        self.head.goto_preset(token, self.clock())
        self.moves += 1
        return "<tptz:GotoPresetResponse/>"

    def _op_RemovePreset(self, op: Element) -> str:
        self._profile(op)
        self.head.remove_preset(op.findtext(soap.q(soap.TPTZ, "PresetToken"), "").strip())
        return "<tptz:RemovePresetResponse/>"

    def _op_GetStatus(self, op: Element) -> str:
        self._profile(op)
        now = self.clock()
        state = "MOVING" if self.head.moving(now) else "IDLE"
        pos = self.head.position(now)
        utc = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"<tptz:GetStatusResponse><tptz:PTZStatus>{_position_xml('tt:Position', pos)}"
            f"<tt:MoveStatus><tt:PanTilt>{state}</tt:PanTilt><tt:Zoom>{state}</tt:Zoom></tt:MoveStatus>"
            f"<tt:UtcTime>{utc}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>"
        )
