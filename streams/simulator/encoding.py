"""How the simulator encodes a stream: like a camera, or fast and cheap for tests.

Pure standard library (the server runs under the system Python and loads this file by
path). `encoder(profile, codec, qp)` is the GStreamer launch text from raw I420 to an
access-unit byte stream; `payloader(codec)` the matching RTP payloader.

- `camera` (the default): what IP cameras send. H.264 High profile with CABAC, the 8x8
  transform, deblocking and intra 4x4/8x8 prediction, a key frame every 2 s, no
  B-frames (cameras' low-latency setting), at a camera's bit rate. The features are
  what a decoder pays for; the encoder's own search stays x264's cheapest (`ultrafast`
  with those features turned back on: ~3.3 ms a 720p frame here, against ~4.2 ms for
  `superfast`, the cheapest preset that has them by default), like a camera's hardware
  encoder, which does not search hard either. Bit rates on the simulator's scene:
  about 2 Mbit/s for a 720p main stream by day (1 at night), 0.6 sub, 0.45 third.
  The rate comes from a constant quantiser per stream (`quantiser`), like a camera's
  fixed-quality mode, not from a rate control: the simulator starts a stream's encoder
  when its first client connects, and a rate control's first key frames come out
  coarser than later ones, so a frozen camera's key frames would differ (the patrol would not see it
  frozen); a running camera's rate control has long settled. With codec `h265` the main
  stream is H.265 Main (x265 `ultrafast`: CABAC and deblocking, no SAO; ~20 ms of CPU a
  720p frame here, about half a core per stream, where `superfast` took ~28 ms); sub
  and third streams stay H.264, as on most cameras.
- `fast`: x264 `ultrafast` (constrained baseline: CAVLC, no deblocking) at quantiser 26:
  cheap to make and to decode, for tests that need many cheap streams.
"""

from __future__ import annotations

FPS = 25
GOP = 2 * FPS  # a key frame every 2 s, like cameras
FAST_QP = 26
MAIN_QP = 19  # camera profile, main stream; the smaller streams look worse, as on cameras
SMALL_QP = 25  # sub and third
PROFILES = ("camera", "fast")
# on top of x264's cheapest search (ultrafast), the bitstream features of a camera's
# H.264 High stream, which are what a decoder pays for: CABAC and the 8x8 transform
# (properties), deblocking and intra 4x4/8x8 prediction (here)
CAMERA_X264 = "scenecut=0:deblock=0,0:partitions=i8x8,i4x4"
CODECS = ("h264", "h265")


def quantiser(profile: str, stream: str) -> int:
    """The constant quantiser of one stream."""
    if profile == "fast":
        return FAST_QP
    return MAIN_QP if stream == "main" else SMALL_QP


def stream_codec(codec: str, stream: str) -> str:
    """The codec a stream is sent in: H.265 only ever for the main stream."""
    return codec if stream == "main" else "h264"


def encoder(profile: str, codec: str, qp: int, gop: int = GOP) -> str:
    """Launch text of the encoder (named `enc`) and its caps, raw I420 in, byte stream out."""
    if profile not in PROFILES:
        raise ValueError(f"unknown encoding {profile!r}; known: {', '.join(PROFILES)}")
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; known: {', '.join(CODECS)}")
    if profile == "fast":
        if codec != "h264":
            raise ValueError("the fast encoding is H.264 only")
        return (
            "x264enc name=enc tune=zerolatency speed-preset=ultrafast threads=1 "
            f"key-int-max={gop} pass=quant quantizer={qp} option-string=scenecut=0 "
            "! video/x-h264,stream-format=byte-stream,alignment=au"
        )
    if codec == "h265":
        options = "scenecut=0:repeat-headers=1:pools=1:frame-threads=1:wpp=0:bframes=0"
        return (
            "x265enc name=enc tune=zerolatency speed-preset=ultrafast "
            f'qp={qp + 1} key-int-max={gop} option-string="{options}" '
            "! video/x-h265,profile=main,stream-format=byte-stream,alignment=au"
        )
    return (
        "x264enc name=enc tune=zerolatency speed-preset=ultrafast threads=1 "
        f"key-int-max={gop} pass=quant quantizer={qp} cabac=true dct8x8=true "
        f'option-string="{CAMERA_X264}" '
        "! video/x-h264,profile=high,stream-format=byte-stream,alignment=au"
    )


def payloader(codec: str) -> str:
    """The RTP payloader (named `pay0`, parameter sets with every key frame)."""
    return f"rtp{codec}pay name=pay0 pt=96 config-interval=-1"


def parser(codec: str) -> str:
    return f"{codec}parse"
