"""The hub side of remote video mediation: `MediationService` and its parts."""

from dispatch.mediation.service.facade import MediationService

__all__ = ["MediationService"]
