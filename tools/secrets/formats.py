"""The exact form of each secret in ``functions/catalogue.yaml``.

Where the runtime parses a secret, the check is the runtime's own code:
``booking-api-keys`` goes through the gateway's parser (``functions/gateway/gateway_auth.py``)
and ``google-calendar-credentials`` through ``google.auth.load_credentials_from_dict`` with
the scheduler's scopes, as ``functions/scheduler/scheduler_calendar.py`` builds its client.
The others are opaque to the runtime (handed to the Stripe and Twilio SDKs as they are),
so the check is the provider's documented shape: Stripe secret keys ``sk_live_``/
``sk_test_`` (restricted keys ``rk_``), webhook signing secrets ``whsec_``
(https://docs.stripe.com/keys, https://docs.stripe.com/webhooks#verify-events), Twilio
auth tokens 32 hex characters (https://www.twilio.com/docs/iam/api/account).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from infra.catalogue import FUNCTIONS_DIR

MAX_VALUE_BYTES = 64 * 1024


@dataclass(frozen=True)
class SecretFormat:
    summary: str
    """The exact form, in a few words."""
    example: str
    """A well-formed (fake) value."""
    source: str
    """Where to get the value."""
    check: Callable[[str], str | None]
    """Why a value is malformed, or None. Never echoes the value."""


def _pattern(pattern: str, what: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if re.fullmatch(pattern, value) else f"not {what}"

    return check


GATEWAY_DEPENDENCIES = {"gateway_auth": ("gateway_body",)}
"""The gateway's own modules each loaded module imports (loaded first, by file)."""


def _gateway_module(name: str) -> ModuleType:
    """A module of the gateway's code, loaded from functions/gateway by file, as the
    runtime has it (the agent's folder is no package of the project: its own modules it
    imports are loaded the same way first, so no ``sys.path`` entry is needed)."""
    if name in sys.modules:
        return sys.modules[name]
    for dependency in GATEWAY_DEPENDENCIES.get(name, ()):
        _gateway_module(dependency)
    spec = importlib.util.spec_from_file_location(name, FUNCTIONS_DIR / "gateway" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _booking_api_keys(value: str) -> str | None:
    auth = _gateway_module("gateway_auth")
    try:
        auth._parse(value)  # the gateway's own parser: what a request would meet
    except auth.ApiKeysError as error:
        return str(error)
    return None


def _calendar_credentials(value: str) -> str | None:
    import google.auth
    from google.auth import exceptions

    try:
        document = json.loads(value)
    except ValueError as error:
        return f"not JSON ({error.msg} at line {error.lineno})"
    if not isinstance(document, dict):
        return "not a JSON object (a service-account key or external-account file)"
    try:
        # The scheduler's own call (scheduler_calendar.py); no network for these types.
        # google-auth warns that a config from an untrusted source needs validating: this
        # is that validation, of the operator's own file.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            google.auth.load_credentials_from_dict(
                document, scopes=["https://www.googleapis.com/auth/calendar"]
            )
    except exceptions.DefaultCredentialsError as error:
        return str(error).splitlines()[0][:200]
    except (ValueError, KeyError) as error:
        return f"not a usable credentials file ({type(error).__name__}: a field is missing or bad)"
    return None


FORMATS: dict[str, SecretFormat] = {
    "google-calendar-credentials": SecretFormat(
        "JSON: a service-account key (`type: service_account`) or a workload identity "
        "federation config (`type: external_account`)",
        '{"type": "service_account", "project_id": "...", "private_key_id": "...", '
        '"private_key": "<the key, PEM>", "client_email": '
        '"calendar-bot@PROJECT.iam.gserviceaccount.com", "token_uri": '
        '"https://oauth2.googleapis.com/token", ...}',
        "a service account's JSON key (Cloud console, IAM > Service accounts > Keys), whose "
        "email the calendar is shared with",
        _calendar_credentials,
    ),
    "stripe-api-key": SecretFormat(
        "a Stripe secret key, `sk_live_...` (prod) or `sk_test_...` (dev, staging), or a "
        "restricted key `rk_...` allowing Checkout Sessions and Payment Links",
        "sk_test_51AbCdEfGhIjKlMnOpQrStUvWx",
        "Stripe dashboard, Developers > API keys (test mode for dev and staging)",
        _pattern(r"(sk|rk)_(live|test)_[A-Za-z0-9]{10,247}", "a Stripe secret key (sk_/rk_)"),
    ),
    "stripe-webhook-secret": SecretFormat(
        "the webhook endpoint's signing secret, `whsec_...`",
        "whsec_3f9c2b7e1a4d4c0b9e8f7a6d5c4b3a2f",
        "Stripe dashboard, Developers > Webhooks > the /stripe endpoint > Signing secret",
        _pattern(r"whsec_[A-Za-z0-9+/=]{16,200}", "a Stripe webhook signing secret (whsec_)"),
    ),
    "twilio-auth-token": SecretFormat(
        "the Twilio account's auth token: 32 lowercase hex characters",
        "0123456789abcdef0123456789abcdef",
        "Twilio console, Account Info (the account whose SID is TWILIO_ACCOUNT_SID)",
        _pattern(r"[0-9a-f]{32}", "a Twilio auth token (32 lowercase hex characters)"),
    ),
    "booking-api-keys": SecretFormat(
        'JSON: `{"<caller>": {"keys": ["<32-256 printable chars>"], "per_minute": 30}}` '
        "(docs/booking-api.md)",
        '{"website": {"keys": ["sbk_live_Yx3rQ9vT2mK8pL5nW7cB4dF6gH1jZ0aS"], "per_minute": 30}}',
        "you make it: one entry per calling server, keys from "
        "`python -c \"import secrets; print('sbk_live_' + secrets.token_urlsafe(32))\"`",
        _booking_api_keys,
    ),
}


def problem(name: str, raw: bytes) -> str | None:
    """Why ``raw`` is not a well-formed value of secret ``name``, or None."""
    if len(raw) > MAX_VALUE_BYTES:
        return f"{len(raw)} bytes, over {MAX_VALUE_BYTES}"
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if not value:
        return "empty"
    if value != value.strip():
        return (
            "starts or ends with whitespace or a newline (upload with `printf %s`, not `echo`: "
            "Secret Manager keeps every byte)"
        )
    return FORMATS[name].check(value)
