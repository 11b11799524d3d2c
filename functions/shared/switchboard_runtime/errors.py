"""The error taxonomy: permanent failures are acked and dead-lettered, transient ones retried.

``classify(exc)`` maps any exception to :class:`PermanentError` or :class:`TransientError`:

- third-party HTTP 4xx other than 429 (stripe, twilio, googleapiclient, requests) -> permanent;
- 429, 5xx, timeouts, connection errors, Firestore/gRPC contention (Aborted,
  DeadlineExceeded, ServiceUnavailable, ...) -> transient;
- Google Cloud InvalidArgument / OutOfRange / BadRequest (a document id, value or size
  derived from the event that Firestore refuses) -> permanent;
- anything unknown -> transient: a bug retried and then dead-lettered by Pub/Sub's own
  policy is safer than an event silently acked.

SDK modules are only consulted when already imported (an exception from an SDK implies its
module is loaded), so this module imports nothing heavy.
"""

from __future__ import annotations

import sys


class SwitchboardError(Exception):
    """Base of the taxonomy; ``reason`` is a short, log- and attribute-safe text."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentError(SwitchboardError):
    """Retrying cannot help (bad input, a 4xx): ack and dead-letter with the reason."""


class TransientError(SwitchboardError):
    """Retrying may help (429, 5xx, timeouts, contention): nack so Pub/Sub retries."""


TRANSIENT_GRPC = frozenset(
    {
        "Aborted",
        "DeadlineExceeded",
        "ServiceUnavailable",
        "InternalServerError",
        "TooManyRequests",
        "ResourceExhausted",
        "Unknown",
        "GatewayTimeout",
        "BadGateway",
        "RetryError",
    }
)


PERMANENT_GRPC = frozenset({"InvalidArgument", "OutOfRange", "BadRequest"})
"""Google Cloud refusing the request itself (an id, a value or a document size derived
from the event): the same message is refused every time, so retrying only delays the
dead letter and loses its reason."""


def _from_status(status: int | None, what: str, exc: BaseException) -> SwitchboardError | None:
    if status is None:
        return None
    reason = f"{what} HTTP {status}: {_short(exc)}"
    if status == 429 or status >= 500 or status == 408:
        return TransientError(reason)
    if 400 <= status < 500:
        return PermanentError(reason)
    return None


def _short(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text[:limit]


def _stripe(exc: BaseException) -> SwitchboardError | None:
    stripe = sys.modules.get("stripe")
    if stripe is None or not isinstance(exc, stripe.StripeError):
        return None
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return TransientError(f"stripe: {_short(exc)}")
    return _from_status(exc.http_status, "stripe", exc) or TransientError(f"stripe: {_short(exc)}")


def _twilio(exc: BaseException) -> SwitchboardError | None:
    module = sys.modules.get("twilio.base.exceptions")
    if module is None or not isinstance(exc, module.TwilioException):
        return None
    status = getattr(exc, "status", None)
    return _from_status(status, "twilio", exc) or TransientError(f"twilio: {_short(exc)}")


def _googleapiclient(exc: BaseException) -> SwitchboardError | None:
    module = sys.modules.get("googleapiclient.errors")
    if module is None or not isinstance(exc, module.HttpError):
        return None
    status = int(getattr(exc.resp, "status", 0) or 0)
    return _from_status(status, "google api", exc) or TransientError(f"google api: {_short(exc)}")


def _requests(exc: BaseException) -> SwitchboardError | None:
    module = sys.modules.get("requests")
    if module is None or not isinstance(exc, module.RequestException):
        return None
    response = getattr(exc, "response", None)
    if response is not None:
        found = _from_status(response.status_code, "http", exc)
        if found is not None:
            return found
    return TransientError(f"http: {_short(exc)}")


def _google_api_core(exc: BaseException) -> SwitchboardError | None:
    module = sys.modules.get("google.api_core.exceptions")
    if module is None or not isinstance(exc, module.GoogleAPIError):
        return None
    if type(exc).__name__ in TRANSIENT_GRPC:
        return TransientError(f"google cloud: {_short(exc)}")
    if type(exc).__name__ in PERMANENT_GRPC:
        return PermanentError(f"google cloud refused the data: {_short(exc)}")
    # Other Google Cloud errors (permission denied, not found, ...) are mostly
    # configuration faults of our own: retry them until fixed, then Pub/Sub dead-letters.
    return TransientError(f"google cloud: {_short(exc)}")


CLASSIFIERS = (_stripe, _twilio, _googleapiclient, _requests, _google_api_core)


def classify(exc: BaseException) -> SwitchboardError:
    """The taxonomy's verdict on ``exc`` (unknown -> transient)."""
    if isinstance(exc, SwitchboardError):
        return exc
    for classifier in CLASSIFIERS:
        found = classifier(exc)
        if found is not None:
            return found
    if isinstance(exc, TimeoutError | ConnectionError | OSError):
        return TransientError(f"network: {_short(exc)}")
    return TransientError(f"unexpected: {_short(exc)}")


def is_transient(exc: BaseException) -> bool:
    return isinstance(classify(exc), TransientError)
