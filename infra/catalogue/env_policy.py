"""What a manifest's ``env:`` may set: an allow-list of plain agent settings.

An environment variable is an instruction to everything in the process: the interpreter
(``PYTHONPATH``), the dynamic linker (``LD_PRELOAD``), the Google SDKs
(``*_EMULATOR_HOST``, ``GOOGLE_*``), the third-party SDKs (``TWILIO_REGION``), the local
sandbox's redirections (``SANDBOX_*``). A deny-list of those can never be complete, so
``env:`` may only set a name listed in :data:`ALLOWED_SETTINGS`, and only to a value that
matches that setting's pattern. Adding a setting is a change to this file (reviewed as
platform code), and :func:`registry_problems` (run by the tests) refuses an entry whose
name is reserved by the platform or a runtime, or looks like a credential.

Some settings differ per environment (a calendar, a Twilio account and sending number):
those are ``per_stack``. A manifest may not give them a value; it lists their names under
``settings:``, and each stack gives the value in ``Pulumi.<stack>.yaml`` under
``switchboard:agentSettings`` (the local platform's in ``localdev/settings.yaml``), checked
against the same pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

MAX_VALUE_CHARS = 256
STACK_SETTINGS_KEY = "switchboard:agentSettings"
"""Where a stack gives per-stack setting values (``StackSettings.agent_settings``)."""
LOCAL_SETTINGS_FILE = "localdev/settings.yaml"
"""Where the local platform's values for per-stack settings live."""
ENV_NAME_PATTERN = r"[A-Z][A-Z0-9_]{0,63}"

# Names the platform, the runtimes or the SDKs read: never settable from a manifest.
RESERVED_NAME = re.compile(
    r"SWITCHBOARD_.*|GOOGLE_.*|GCLOUD_.*|CLOUDSDK_.*|GCP_.*|K_.*|FUNCTION_.*|X_GOOGLE_.*"
    r"|.*_EMULATOR_HOST|SANDBOX_.*|PYTHON.*|LD_.*|DYLD_.*|GRPC_.*|SSL_.*|REQUESTS_.*|CURL_.*"
    r"|HTTPS?_PROXY|NO_PROXY|ALL_PROXY|PORT|PATH|HOME|USER|SHELL|TMPDIR|TZ|LANG|LC_.*"
    r"|LOG_LEVEL|THREADS|GUNICORN_.*|GEVENT_.*|WERKZEUG_.*|FLASK_.*"
)
# Names a credential would have: such a value belongs in Secret Manager, not in plain env.
CREDENTIAL_NAME = re.compile(
    r".*(SECRET|TOKEN|PASSWORD|PASSWD|PWD|PASS|KEY|AUTH|CREDENTIAL|CERT|SIGNING|SALT|"
    r"SESSION|COOKIE|BEARER|DSN|PRIVATE).*"
)
# Values that are credentials whatever the name says (Stripe, Twilio, PEM, AWS, GitHub...).
CREDENTIAL_VALUE = re.compile(
    r"(sk|rk|pk)_(live|test)_|whsec_|-----BEGIN|AKIA[0-9A-Z]{12}|gh[pousr]_[A-Za-z0-9]{20}"
    r"|xox[abpr]-|SK[0-9a-f]{32}|ya29\.|AIza[0-9A-Za-z_-]{20}"
)


@dataclass(frozen=True)
class Setting:
    """One plain setting: its meaning and the exact form its value must have."""

    description: str
    value_pattern: str
    per_stack: bool = False
    """True: the value differs per environment, so it comes from the stack's settings
    (``switchboard:agentSettings``), never from a manifest's ``env:``."""
    example: str = ""
    """A well-formed value, shown in messages that ask for one."""

    def refuses(self, value: str) -> str | None:
        """Why ``value`` is not allowed for this setting, or None."""
        if len(value) > MAX_VALUE_CHARS:
            return f"value of {len(value)} chars is over {MAX_VALUE_CHARS}"
        if CREDENTIAL_VALUE.search(value):
            return "value looks like a credential; declare a secret instead"
        if not re.fullmatch(self.value_pattern, value):
            return f"value must match {self.value_pattern} ({self.description})"
        return None


ALLOWED_SETTINGS: Mapping[str, Setting] = {
    "BOOKING_CURRENCY": Setting(
        "ISO 4217 currency of payment links, lowercase (billing)", r"[a-z]{3}"
    ),
    "BOOKING_TIMEZONE": Setting(
        "IANA time zone of calendar events (scheduler)",
        r"[A-Za-z]{1,14}(/[A-Za-z0-9_+-]{1,30}){0,2}",
    ),
    "BOOKING_SERVICES": Setting(
        "the services the booking API accepts, comma-separated (gateway): the only "
        "caller-chosen text an SMS may carry",
        r"[A-Za-z][A-Za-z ]{0,39}(,[A-Za-z][A-Za-z ]{0,39}){0,19}",
    ),
    "CALENDAR_ID": Setting(
        "the Google Calendar id bookings go to (scheduler)",
        r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}",
        per_stack=True,
        example="c_0123456789abcdef@group.calendar.google.com",
    ),
    "REMINDER_WINDOW_MINUTES": Setting(
        "how far ahead reminders are sent, in minutes (reminders)", r"[1-9][0-9]{0,4}"
    ),
    "TWILIO_ACCOUNT_SID": Setting(
        "the Twilio account id, public (gateway, notifier)",
        r"AC[0-9a-f]{32}",
        per_stack=True,
        example="AC0123456789abcdef0123456789abcdef",
    ),
    "TWILIO_FROM_NUMBER": Setting(
        "the E.164 number SMS are sent from (notifier)",
        r"\+[1-9][0-9]{6,14}",
        per_stack=True,
        example="+447700900123",
    ),
}


def registry_problems(settings: Mapping[str, Setting] = ALLOWED_SETTINGS) -> Iterator[str]:
    """Why an entry of the allow-list itself is unsafe (the tests require none)."""
    for name, setting in settings.items():
        if not re.fullmatch(ENV_NAME_PATTERN, name):
            yield f"{name}: not an UPPER_SNAKE name of at most 64 chars"
        if RESERVED_NAME.fullmatch(name):
            yield f"{name}: reserved for the platform, a runtime or an SDK"
        if CREDENTIAL_NAME.fullmatch(name):
            yield f"{name}: looks like a credential (use a secret)"
        try:
            re.compile(setting.value_pattern)
        except re.error as error:
            yield f"{name}: value pattern does not compile: {error}"


def refusal(name: str, value: str) -> str | None:
    """Why a manifest may not set ``name`` to ``value``, or None when it may."""
    setting = ALLOWED_SETTINGS.get(name)
    if setting is None:
        if CREDENTIAL_NAME.fullmatch(name):
            return (
                "looks like a credential; plain env vars are visible to anyone who can read "
                "the service, so declare it under secrets in catalogue.yaml instead"
            )
        if RESERVED_NAME.fullmatch(name):
            return "is reserved for the platform, the Python runtime or an SDK"
        return (
            "is not an allowed agent setting (allowed: "
            f"{', '.join(sorted(ALLOWED_SETTINGS))}; new ones are added, with a value "
            "pattern, in infra/catalogue/env_policy.py)"
        )
    if setting.per_stack:
        return (
            "differs per environment: list it under settings: in the manifest and give its "
            f"value in each Pulumi.<stack>.yaml under {STACK_SETTINGS_KEY} (and in "
            f"{LOCAL_SETTINGS_FILE} for the local platform)"
        )
    return setting.refuses(value)


def declaration_refusal(name: str) -> str | None:
    """Why a manifest may not list ``name`` under ``settings:``, or None when it may."""
    if name not in ALLOWED_SETTINGS:
        return (
            "is not an allowed agent setting (allowed: "
            f"{', '.join(sorted(ALLOWED_SETTINGS))}; new ones are added, with a value "
            "pattern, in infra/catalogue/env_policy.py)"
        )
    return None


def value_refusal(name: str, value: object) -> str | None:
    """Why a stack (or the local platform) may not give ``name`` the value ``value``."""
    setting = ALLOWED_SETTINGS.get(name)
    if setting is None:
        return declaration_refusal(name)
    if not isinstance(value, str):
        return (
            f"must be a string (got {type(value).__name__} {value!r}; quote it in YAML, "
            f'e.g. "{setting.example or value}")'
        )
    why = setting.refuses(value)
    if why is not None and setting.example:
        why += f", e.g. {setting.example!r}"
    return why
