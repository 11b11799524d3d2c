"""Manifest ``env:`` is an allow-list of plain settings with exact value forms."""

from __future__ import annotations

import pytest

from infra.catalogue import env_policy, load_catalogue


def test_the_allow_list_itself_is_safe() -> None:
    assert list(env_policy.registry_problems()) == []


def test_registry_check_catches_unsafe_entries() -> None:
    unsafe = {
        name: env_policy.Setting("x", ".*")
        for name in ("PYTHONPATH", "LD_PRELOAD", "SANDBOX_STRIPE_API_BASE", "STRIPE_KEY")
    }
    assert len(list(env_policy.registry_problems(unsafe))) == 4


def test_every_setting_the_fleet_uses_is_allowed_with_its_value() -> None:
    catalogue = load_catalogue()
    used = {(k, v) for agent in catalogue.agents.values() for k, v in agent.env.items()}
    assert used, "the reference fleet sets some env"
    for name, value in used:
        assert env_policy.refusal(name, value) is None, name


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("SANDBOX_STRIPE_API_BASE", "reserved"),
        ("FIRESTORE_EMULATOR_HOST", "reserved"),
        ("PUBSUB_EMULATOR_HOST", "reserved"),
        ("PYTHONPATH", "reserved"),
        ("PYTHONSTARTUP", "reserved"),
        ("LD_PRELOAD", "reserved"),
        ("GOOGLE_APPLICATION_CREDENTIALS", "credential"),
        ("HTTPS_PROXY", "reserved"),
        ("STRIPE_KEY", "credential"),
        ("TWILIO_AUTH", "credential"),
        ("TWILIO_REGION", "not an allowed agent setting"),
        ("ANYTHING_ELSE", "not an allowed agent setting"),
    ],
)
def test_names_off_the_list_are_refused(name: str, says: str) -> None:
    refusal = env_policy.refusal(name, "value")
    assert refusal is not None and says in refusal


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("BOOKING_CURRENCY", "GBP", "must match"),
        ("BOOKING_CURRENCY", "gbp\nX=1", "must match"),
        ("TWILIO_FROM_NUMBER", "sk_live_abcdef", "looks like a credential"),
        ("CALENDAR_ID", "x" * 300, "over 256"),
        ("REMINDER_WINDOW_MINUTES", "0", "must match"),
    ],
)
def test_values_must_have_the_settings_form(name: str, value: str, says: str) -> None:
    """Manifest values (``env:``) and per-stack values (``agentSettings``) alike."""
    if env_policy.ALLOWED_SETTINGS[name].per_stack:
        refusal = env_policy.value_refusal(name, value)
    else:
        refusal = env_policy.refusal(name, value)
    assert refusal is not None and says in refusal


@pytest.mark.parametrize("name", ["CALENDAR_ID", "TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER"])
def test_per_environment_values_are_refused_in_a_manifest(name: str) -> None:
    setting = env_policy.ALLOWED_SETTINGS[name]
    assert setting.per_stack and env_policy.value_refusal(name, setting.example) is None
    refusal = env_policy.refusal(name, setting.example)
    assert refusal is not None and "switchboard:agentSettings" in refusal
    assert "settings:" in refusal


def test_a_per_stack_value_must_be_a_quoted_string() -> None:
    refusal = env_policy.value_refusal("TWILIO_FROM_NUMBER", 15005550006)
    assert refusal is not None and "quote it" in refusal


def test_only_allowed_settings_can_be_declared() -> None:
    assert env_policy.declaration_refusal("CALENDAR_ID") is None
    refusal = env_policy.declaration_refusal("STRIPE_ACCOUNT")
    assert refusal is not None and "not an allowed agent setting" in refusal
