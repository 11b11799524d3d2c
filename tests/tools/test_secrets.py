"""``python -m tools.secrets check NAME < value``: the runtime's own parsing where it has
one, the provider's shape otherwise; the value is never printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.catalogue import load_catalogue
from tools.secrets.formats import FORMATS, problem

REPO = Path(__file__).resolve().parents[2]


def service_account_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-bookings-dev",
            "private_key_id": "0123456789abcdef",
            "private_key": pem,
            "client_email": "calendar-bot@acme-bookings-dev.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def check(name: str, value: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.secrets", "check", name],
        input=value,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_every_catalogue_secret_has_a_format() -> None:
    assert set(FORMATS) == set(load_catalogue().secrets)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_documented_example_is_well_formed_except_the_elided_key(name: str) -> None:
    if name == "google-calendar-credentials":  # the example elides the private key
        assert problem(name, service_account_key().encode()) is None
    else:
        assert problem(name, FORMATS[name].example.encode()) is None


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("booking-api-keys", '{"website": {"keys": ["short"]}}', "check website.keys.0"),
        ("booking-api-keys", "{}", "names no caller"),
        ("booking-api-keys", '{"Web Site": {"keys": ["' + "k" * 40 + '"]}}', "Web Site"),
        ("google-calendar-credentials", '{"type": "service_account"}', "missing fields"),
        ("google-calendar-credentials", "not json", "not JSON"),
        ("stripe-api-key", "pk_live_abcdefghijklmnop", "not a Stripe secret key"),
        ("stripe-webhook-secret", "sk_live_" + "x" * 16, "not a Stripe webhook"),
        ("twilio-auth-token", "0123456789ABCDEF0123456789ABCDEF", "32 lowercase hex"),
        ("twilio-auth-token", "0123456789abcdef0123456789abcdef\n", "printf %s"),
        ("stripe-api-key", "", "empty"),
    ],
)
def test_malformed_values_are_named(name: str, value: str, says: str) -> None:
    why = problem(name, value.encode())
    assert why is not None and says in why


@pytest.mark.slow
def test_the_command_checks_without_printing_the_value() -> None:
    good = check("stripe-api-key", "sk_test_51AbCdEfGhIjKlMnOpQrStUvWxSECRETPART")
    assert good.returncode == 0 and "well-formed" in good.stdout
    assert "SECRETPART" not in good.stdout + good.stderr
    bad = check("booking-api-keys", '{"website": {"keys": ["tooshortSECRETPART"]}}')
    assert bad.returncode == 1 and "malformed" in bad.stderr
    assert "SECRETPART" not in bad.stdout + bad.stderr
    unknown = check("stripe-key", "x")
    assert unknown.returncode == 2 and "no secret 'stripe-key'" in unknown.stderr
    assert "Traceback" not in good.stderr + bad.stderr + unknown.stderr


def test_a_real_service_account_key_passes_the_command() -> None:
    result = check("google-calendar-credentials", service_account_key())
    assert result.returncode == 0, result.stderr
