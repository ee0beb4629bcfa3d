"""Where a mediation's media run (`dispatch.mediation.media.place`): the hub's star up to
6 parties, Janus beyond or by configuration, and a refusal that says why instead of a
smaller session."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dispatch.mediation.media import MediationConfig, PlacementRefused, place

AUTO = MediationConfig()


@pytest.mark.parametrize("parties", [2, 6])
def test_auto_keeps_small_sessions_on_the_hub_with_or_without_janus(parties: int) -> None:
    assert place(AUTO, parties, janus=True).engine == "hub"
    assert place(AUTO, parties, janus=False).engine == "hub"


@pytest.mark.parametrize("parties", [7, 12, 24])
def test_auto_puts_more_than_six_parties_on_janus(parties: int) -> None:
    got = place(AUTO, parties, janus=True)
    assert got.engine == "janus" and f"{parties} parties > janus_above 6" in got.reason


def test_auto_without_janus_refuses_seven_parties_saying_why() -> None:
    with pytest.raises(PlacementRefused) as e:
        place(AUTO, 7, janus=False)
    assert "7 方的调解需要 Janus" in str(e.value) and "[janus]" in str(e.value)
    assert "at most 6" in str(e.value)


def test_auto_with_a_lower_threshold_falls_back_to_the_hub_with_the_reason() -> None:
    low = MediationConfig(janus_above=3)
    assert place(low, 4, janus=True).engine == "janus"
    back = place(low, 4, janus=False)
    assert back.engine == "hub" and "no Janus is configured" in back.reason
    assert place(low, 3, janus=False).engine == "hub"
    with pytest.raises(PlacementRefused):
        place(low, 7, janus=False)


def test_engine_hub_never_goes_to_janus_and_refuses_beyond_six() -> None:
    hub = MediationConfig(engine="hub")
    assert place(hub, 6, janus=True).engine == "hub"
    with pytest.raises(PlacementRefused) as e:
        place(hub, 7, janus=True)
    assert "mediation.engine = hub" in str(e.value)


def test_engine_janus_always_goes_to_janus_and_needs_one() -> None:
    janus = MediationConfig(engine="janus")
    assert place(janus, 2, janus=True).engine == "janus"
    with pytest.raises(PlacementRefused):
        place(janus, 2, janus=False)


def test_no_engine_takes_more_than_a_room_is_made_for() -> None:
    with pytest.raises(PlacementRefused) as e:
        place(AUTO, 25, janus=True)
    assert "24" in str(e.value)


@pytest.mark.parametrize(
    "bad", [{"engine": "sfu"}, {"janus_above": 0}, {"janus_above": 7}, {"other": 1}]
)
def test_the_configuration_is_constrained(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MediationConfig.model_validate(bad)
