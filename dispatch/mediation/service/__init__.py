"""The hub side of remote video mediation: `MediationService` and its parts."""

from dispatch.mediation.service.facade import (
    MediationService,
    Participant,
    close_crashed,
    recording_line,
)

__all__ = ["MediationService", "Participant", "close_crashed", "recording_line"]
