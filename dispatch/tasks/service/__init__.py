"""The hub's dispatch service (派单): see the modules of this package."""

from dispatch.tasks.service.dispatch import (
    MAX_PIN_FAILURES,
    DispatchService,
    LoginResult,
    hash_pin,
    verify_pin,
)

__all__ = ["MAX_PIN_FAILURES", "DispatchService", "LoginResult", "hash_pin", "verify_pin"]
