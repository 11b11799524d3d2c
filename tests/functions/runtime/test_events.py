"""The event models agree with the contract's registry, and the schemas mean what they say."""

from __future__ import annotations

import pytest
from switchboard_contract import event_types
from switchboard_runtime.errors import PermanentError
from switchboard_runtime.events import EVENT_TYPES, spec_for, validate
from switchboard_runtime.publisher import derive_event_id


def test_the_models_agree_with_the_contracts_registry() -> None:
    """Importing events.py checks it; the catalogue is held to the same registry by
    load_catalogue (tests/infra/catalogue/test_event_registry.py)."""
    modelled = {t: (s.topic, s.supported) for t, s in EVENT_TYPES.items()}
    assert event_types.mismatches(modelled) == []
    assert all(spec.version >= 1 for spec in EVENT_TYPES.values())


def test_a_disagreement_with_the_registry_is_named() -> None:
    modelled = {t: (s.topic, s.supported) for t, s in EVENT_TYPES.items()}
    modelled["booking.cancelled"] = ("bookings", (1, 2))
    modelled["sms.sent"] = ("inbound", (1,))
    del modelled["tick"]
    assert event_types.mismatches(modelled) == [
        "tick: in the registry but has no model",
        "sms.sent: has a model but is not in the registry",
        "booking.cancelled: registry says topic 'bookings' versions [1], the models topic "
        "'bookings' versions [1, 2]",
    ]


def test_unknown_type_is_permanent() -> None:
    with pytest.raises(PermanentError, match="unknown event type"):
        spec_for("booking.exploded")


def test_validation_names_the_fields() -> None:
    with pytest.raises(PermanentError) as raised:
        validate("booking.requested", {"booking_id": "bk-1", "starts_at": "2030-01-01T10:00"})
    reason = raised.value.reason
    assert "customer" in reason and "starts_at" in reason and "ends_at" in reason


def test_times_need_a_timezone_and_an_order() -> None:
    base = {
        "booking_id": "bk-0001",
        "customer": {"name": "A", "phone": "+447700900000"},
        "service": "s",
        "amount_minor": 1,
        "currency": "gbp",
    }
    ok = {**base, "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T11:00:00+01:00"}
    with pytest.raises(PermanentError, match="ends_at must be after"):
        validate("booking.requested", ok)
    good = {**ok, "ends_at": "2030-01-01T12:00:00+01:00"}
    assert validate("booking.requested", good).amount_minor == 1  # type: ignore[attr-defined]


def test_derived_event_ids_are_deterministic_and_distinct() -> None:
    assert derive_event_id("e-1", "confirmed") == derive_event_id("e-1", "confirmed")
    assert derive_event_id("e-1", "confirmed") != derive_event_id("e-1", "rejected")
    assert derive_event_id("e-1", "confirmed") != derive_event_id("e-2", "confirmed")
    assert derive_event_id("a:b", "c") != derive_event_id("a", "b:c")
