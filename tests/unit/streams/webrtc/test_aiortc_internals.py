"""The aiortc and aioice internals that the hub replaces still have the shape it relies on.

The hub forwards media without decoding (`streams.webrtc.forward`), announces a steady
REMB (`streams.webrtc.remb`), hands receivers' key-frame requests on
(`streams.webrtc.room`, the sender's private force-key-frame flag) and restricts ICE
host addresses in tests (`streams.webrtc.config`). None of these are public API: the
package pins aiortc and aioice to the minor versions checked here (pyproject.toml), and
this test fails loudly, naming what moved, when an upgrade changes one of them. See
docs/aiortc-hooks.md for the upstream proposals that would make them public.
"""

from __future__ import annotations

import asyncio
import inspect

import aioice.ice
import aiortc.rtcrtpreceiver as receiver_mod
import pytest
from aiortc import RTCRtpSender
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rate import RemoteBitrateEstimator

from streams.webrtc import forward, remb, room
from streams.webrtc.remb import SteadyRemb


def params(fn: object) -> list[str]:
    return list(inspect.signature(fn).parameters)  # type: ignore[arg-type]


def test_the_decoder_worker_is_a_module_function_with_our_workers_parameters() -> None:
    assert callable(getattr(receiver_mod, "decoder_worker", None)), (
        "aiortc.rtcrtpreceiver.decoder_worker is gone: streams.webrtc.forward.install "
        "has nothing to replace"
    )
    original = getattr(receiver_mod, "_hall_orig_decoder_worker", receiver_mod.decoder_worker)
    assert params(original) == params(forward._forwarding_worker), (
        "aiortc's decoder_worker changed its parameters"
    )
    # the receiver looks the worker up by its module-global name when it starts a track
    start_source = inspect.getsource(receiver_mod.RTCRtpReceiver.receive)
    assert "target=decoder_worker" in start_source
    # and it queues (codec, encoded frame) pairs, which the forwarding worker unpacks
    handle_source = inspect.getsource(receiver_mod.RTCRtpReceiver._handle_rtp_packet)
    assert "decoder_queue.put((codec, encoded_frame))" in handle_source


def test_a_video_receiver_keeps_its_bitrate_estimator_in_the_private_name_we_replace() -> None:
    async def body() -> None:
        class _Transport:  # the receiver's constructor only stores it and reads `state`
            state = "new"

            def _register_rtp_receiver(self, *_: object) -> None: ...

        video = receiver_mod.RTCRtpReceiver("video", _Transport())  # type: ignore[arg-type]
        audio = receiver_mod.RTCRtpReceiver("audio", _Transport())  # type: ignore[arg-type]
        assert isinstance(getattr(video, remb._ESTIMATOR, None), RemoteBitrateEstimator), (
            f"aiortc's video receiver has no {remb._ESTIMATOR}"
        )
        assert getattr(audio, remb._ESTIMATOR, "missing") is None
        assert params(RemoteBitrateEstimator.add) == params(SteadyRemb.add)
        assert remb.use_steady_remb(video) is not None

    asyncio.run(body())


def test_a_sender_notes_a_pli_in_the_private_flag_the_room_reads() -> None:
    async def body() -> None:
        sender = RTCRtpSender(AudioStreamTrack(), _FakeDtls())  # type: ignore[arg-type]
        assert getattr(sender, room._FORCE_KEY, None) is False, (
            f"aiortc's sender has no {room._FORCE_KEY} flag"
        )
        handler = inspect.getsource(RTCRtpSender._handle_rtcp_packet)
        assert "self._send_keyframe()" in handler, "a PLI no longer goes to _send_keyframe"
        assert "self.__force_keyframe = True" in inspect.getsource(RTCRtpSender._send_keyframe)

    asyncio.run(body())


class _FakeDtls:
    state = "new"
    transport = None

    def _register_rtp_sender(self, *_: object) -> None: ...


@pytest.mark.parametrize("encoder", [Vp8Encoder, OpusEncoder])
def test_the_encoders_packetize_a_ready_packet(encoder: type) -> None:
    assert params(encoder.pack) == ["self", "packet"], f"{encoder.__name__}.pack changed"
    sender_source = inspect.getsource(RTCRtpSender._next_encoded_frame)
    assert ".pack(" in sender_source, "aiortc's sender no longer packetizes av.Packets"


def test_aioice_gathers_host_addresses_through_a_module_function() -> None:
    assert params(aioice.ice.get_host_addresses) == ["use_ipv4", "use_ipv6"]
    gather = inspect.getsource(aioice.ice.Connection.gather_candidates)
    assert "get_host_addresses(" in gather


def test_the_nominated_pair_is_where_streams_webrtc_stats_reads_it() -> None:
    from aiortc import RTCPeerConnection

    pc_init = inspect.getsource(RTCPeerConnection.__init__)
    assert "self.__iceTransports" in pc_init, "RTCPeerConnection renamed its ICE transports"
    conn = inspect.getsource(aioice.ice.Connection)
    assert "self._nominated[" in conn, "aioice's Connection renamed its nominated pairs"
    pair = aioice.ice.CandidatePair
    assert isinstance(pair.local_candidate, property)
    assert "self.remote_candidate = remote_candidate" in inspect.getsource(pair.__init__)


def test_the_simulcast_sender_finds_the_private_parts_it_sends_with() -> None:
    """`streams.webrtc.simulcast.SimulcastVideo` packetizes with `Vp8Encoder._packetize`,
    serializes with the sender's header-extension map and mid, adds SSRCs to the
    transport's RTP router, reads the force-key-frame flag, and finds the negotiated
    codecs on the transceiver."""
    import aiortc.rtcdtlstransport as dtls
    from aiortc.rtcrtptransceiver import RTCRtpTransceiver

    assert params(Vp8Encoder._packetize) == ["buffer", "picture_id"]
    init = inspect.getsource(RTCRtpSender.__init__)
    for name in ("self.__rtp_header_extensions_map", "self.__force_keyframe", "self._ssrc"):
        assert name in init, f"RTCRtpSender no longer sets {name}"
    assert "self.__mid = " in inspect.getsource(RTCRtpSender.send)
    assert params(dtls.RtpRouter.register_sender) == ["self", "sender", "ssrc"]
    assert "self._rtp_router" in inspect.getsource(dtls.RTCDtlsTransport.__init__)
    assert "self._codecs" in inspect.getsource(RTCRtpTransceiver.__init__)
