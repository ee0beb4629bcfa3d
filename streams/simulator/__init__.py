"""The synthetic camera site: a real RTSP server (GStreamer) serving H.264 cameras.

`CamSim` runs it as a subprocess; `hall-camsim` (`streams.simulator.cli`) is the command.
"""

from streams.simulator.camsim import CamSim, CamSimError
from streams.simulator.spec import SpecError

__all__ = ["CamSim", "CamSimError", "SpecError"]
