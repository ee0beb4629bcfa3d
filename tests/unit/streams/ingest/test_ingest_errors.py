"""How ingest failures map to camera states, and that credentials never leak into texts."""

from __future__ import annotations

import errno

import av.error
import pytest

from streams.ingest.decode import open_options, stream_label
from streams.ingest.failures import (
    IngestError,
    NoVideoError,
    classify_error,
    redact,
    url_secrets,
)
from streams.ingest.types import CameraState

URL = "rtsp://admin:s3cret@127.0.0.1:8554/cam1/sub"
_CODES: dict[object, int] = {cls: code for code, cls in av.error.classes.items()}


def pyav_error(code: int) -> BaseException:
    """The exception PyAV itself raises for an FFmpeg return code (with the URL in it)."""
    try:
        av.error.err_check(-abs(code), URL)
    except Exception as exc:
        return exc
    raise AssertionError(f"err_check did not raise for {code}")


def tagged(cls: type[BaseException]) -> BaseException:
    return pyav_error(_CODES[cls])


@pytest.mark.parametrize(
    ("exc", "state", "words"),
    [
        (tagged(av.error.HTTPUnauthorizedError), CameraState.AUTH_FAILED, "authentication"),
        (tagged(av.error.HTTPForbiddenError), CameraState.AUTH_FAILED, "authentication"),
        (tagged(av.error.HTTPNotFoundError), CameraState.NOT_FOUND, "not found"),
        # av.open(..., timeout=(open_s, read_s)) on a hung camera
        (tagged(av.error.ExitError), CameraState.STALLED, "no data"),
        # options={"timeout": ...} on a hung camera
        (pyav_error(errno.ETIMEDOUT), CameraState.STALLED, "no data"),
        (TimeoutError("plain"), CameraState.STALLED, "no data"),
        (pyav_error(errno.ECONNREFUSED), CameraState.OFFLINE, "refused"),
        (pyav_error(errno.ECONNRESET), CameraState.OFFLINE, "reset by peer"),
        (tagged(av.error.EOFError), CameraState.OFFLINE, "end of stream"),
        (tagged(av.error.HTTPServerError), CameraState.OFFLINE, "5XX"),
        (tagged(av.error.InvalidDataError), CameraState.OFFLINE, "Invalid data"),
        (pyav_error(errno.EIO), CameraState.OFFLINE, "Input/output error"),
        (NoVideoError("the camera's stream has no video"), CameraState.NO_VIDEO, "no video"),
        (IngestError("something else"), CameraState.OFFLINE, "something else"),
        (RuntimeError(URL), CameraState.OFFLINE, "unexpected error RuntimeError"),
    ],
)
def test_exception_maps_to_state(exc: BaseException, state: CameraState, words: str) -> None:
    got_state, text = classify_error(exc)
    assert got_state is state
    assert words in text
    assert "s3cret" not in text and "admin" not in text and "rtsp://" not in text


def test_pyav_puts_credentials_in_its_messages_so_we_must_not_use_them() -> None:
    # the reason classify_error builds its own text: PyAV's str() carries the URL
    assert "s3cret" in str(tagged(av.error.HTTPUnauthorizedError))


def test_redact_removes_user_info_and_secrets() -> None:
    text = f"failed to open {URL} (user admin, password s3cret)"
    out = redact(text, url_secrets(URL))
    assert "s3cret" not in out
    assert "admin" not in out
    assert "rtsp://127.0.0.1:8554/cam1/sub" in out


def test_redact_without_user_info_keeps_the_text() -> None:
    assert (
        redact("rtsp://127.0.0.1:8554/cam1/sub refused") == "rtsp://127.0.0.1:8554/cam1/sub refused"
    )


def test_url_secrets() -> None:
    assert set(url_secrets(URL)) == {"admin", "s3cret"}
    assert url_secrets("rtsp://127.0.0.1/cam1") == ()


def test_open_options_are_short_probing_over_tcp() -> None:
    opts = open_options("tcp")
    assert opts == {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "32768"}
    assert open_options("udp")["rtsp_transport"] == "udp"
    with pytest.raises(ValueError, match="transport must be 'tcp' or 'udp'"):
        open_options("http")


def test_stream_label_marks_keyframes_only() -> None:
    assert stream_label("sub", False) == "sub"
    assert stream_label("main", True) == "main+key"
