"""Obviously fake secret values for the local platform, generated per start.

Real values never exist locally. Each start makes fresh ones and records them in
``.local/platform.json`` so local tools (e.g. a scenario signing a Stripe webhook) can use
the same value the agent was given.
"""

from __future__ import annotations

import json
import secrets as random_source  # stdlib

LOCAL_PER_MINUTE = 6000


def api_key(value: str, caller: str = "local") -> str:
    """The key of ``caller`` in an ``*-api-keys`` value made by :func:`fake_secret_value`."""
    return str(json.loads(value)[caller]["keys"][0])


def fake_secret_value(name: str, sandbox_url: str | None = None) -> str:
    """A recognisably local value shaped like the real secret (by the secret's name)."""
    token = random_source.token_hex(16)
    if name.endswith("api-keys"):
        # The booking API's callers: "local" (scenarios and the fault suite, high limit)
        # and "local-default" (the documented default limit, for abuse tests).
        return json.dumps(
            {
                "local": {"keys": [f"sbk_local_{token}"], "per_minute": LOCAL_PER_MINUTE},
                "local-default": {"keys": [f"sbk_local_default_{random_source.token_hex(16)}"]},
            },
            sort_keys=True,
        )
    if "webhook-secret" in name:
        return f"whsec_local_{token}"
    if "api-key" in name:
        return f"sk_test_local_{token}"
    if "credentials" in name:
        return json.dumps(
            {
                "type": "local_sandbox",
                "note": "fake credentials for the Switchboard local platform; not a real key",
                "token": f"local_{token}",
                "token_uri": f"{sandbox_url}/token" if sandbox_url else "",
            },
            sort_keys=True,
        )
    return f"local_{token}"


def fake_secrets(names: list[str], sandbox_url: str | None = None) -> dict[str, str]:
    return {name: fake_secret_value(name, sandbox_url) for name in names}
