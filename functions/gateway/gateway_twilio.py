"""POST /twilio: a verified inbound SMS webhook normalised into sms.received.

- The body is read with a cap (``MAX_BODY_BYTES``) and parsed as a bounded form.
- The signature is checked by the official ``twilio.request_validator.RequestValidator``
  with ``TWILIO_AUTH_TOKEN`` over the **configured** public URL: ``SWITCHBOARD_PUBLIC_URL``
  (set by the stack for the public agent) + the path and query. The client's ``Host`` and
  ``X-Forwarded-*`` headers are never used, so a signature Twilio made for another URL
  (another deployment, another customer's app) is refused. Both of Twilio's schemes are
  accepted, the one named by ``X-Twilio-Webhooks-Signature-Settings`` (HMAC-SHA256) or,
  without it, HMAC-SHA1, exactly as the library's ``get_signature_algorithm`` reads it.
  A bad signature is a 403.
- A signed message that is not a valid SMS (no ``MessageSid`` or ``From``, a body above
  Twilio's 1,600 characters) is a **400**: Twilio does not retry a message webhook, and
  shows the 4xx in its debugger; nothing is published. The event id derives from the
  ``MessageSid``.
"""

from __future__ import annotations

import os
from typing import Any

from gateway_body import RefusedError, parse_form, read_body
from switchboard_contract.environment import PUBLIC_URL
from switchboard_runtime.publisher import derive_event_id, publish_event

MAX_BODY_BYTES = 64 * 1024
PUBLIC_URL_ENV = PUBLIC_URL
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url(request: Any) -> str:
    """The URL Twilio signed: the configured public base URL, this path and query."""
    base = os.environ.get(PUBLIC_URL_ENV, "").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise RuntimeError(f"{PUBLIC_URL_ENV} is not set: Twilio signatures cannot be checked")
    query = request.query_string.decode("latin-1")
    return base + request.path + (f"?{query}" if query else "")


def _sms(form: Any) -> dict[str, str]:
    from pydantic import ValidationError
    from switchboard_runtime.events import SmsReceived

    sid = form.get("MessageSid") or form.get("SmsSid")
    fields = {
        "message_sid": sid,
        "from_number": form.get("From"),
        "to_number": form.get("To"),
        "body": form.get("Body", ""),
    }
    names = {"message_sid": "MessageSid", "from_number": "From", "to_number": "To", "body": "Body"}
    try:
        return SmsReceived.model_validate(fields).model_dump()
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        field = names.get(str(error["loc"][0]), str(error["loc"][0])) if error["loc"] else "(body)"
        raise RefusedError(400, field, error["msg"]) from None


def twilio_webhook(request: Any) -> tuple[int, Any, str | None]:
    from twilio.request_validator import (
        SIGNATURE_SETTINGS_HEADER,
        RequestValidator,
        get_signature_algorithm,
    )

    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not token:
        raise RuntimeError("TWILIO_AUTH_TOKEN is not set")
    url = public_url(request)
    form = parse_form(read_body(request, MAX_BODY_BYTES))
    signature = request.headers.get("X-Twilio-Signature", "")
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER, ""))
    valid = bool(signature) and RequestValidator(token).validate(url, form, signature, algorithm)
    if not valid:
        return 403, {"error": "invalid Twilio signature"}, None
    data = _sms(form)
    event_id = derive_event_id(f"twilio:{data['message_sid']}", "sms.received")
    publish_event(
        "inbound",
        "sms.received",
        data,
        event_id=event_id,
        source="gateway",
        correlation_id=event_id,
    )
    return 200, EMPTY_TWIML, "sms.received"
