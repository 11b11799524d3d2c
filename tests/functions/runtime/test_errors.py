"""The taxonomy: which failures are acked and dead-lettered, which are retried."""

from __future__ import annotations

import pytest
import requests
import stripe
from google.api_core import exceptions as gexc
from googleapiclient.errors import HttpError
from httplib2 import Response
from switchboard_runtime.errors import PermanentError, TransientError, classify
from twilio.base.exceptions import TwilioRestException


def google_http(status: int) -> HttpError:
    return HttpError(Response({"status": status}), b'{"error": {"message": "x"}}')


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (stripe.InvalidRequestError("bad", "param", http_status=400), PermanentError),
        (stripe.CardError("declined", "card", "card_declined", http_status=402), PermanentError),
        (stripe.AuthenticationError("key", http_status=401), PermanentError),
        (stripe.RateLimitError("slow down", http_status=429), TransientError),
        (stripe.APIError("boom", http_status=500), TransientError),
        (stripe.APIConnectionError("network"), TransientError),
        (TwilioRestException(400, "/Messages.json", "invalid number", 21211), PermanentError),
        (TwilioRestException(404, "/Messages.json"), PermanentError),
        (TwilioRestException(429, "/Messages.json"), TransientError),
        (TwilioRestException(503, "/Messages.json"), TransientError),
        (google_http(400), PermanentError),
        (google_http(403), PermanentError),
        (google_http(409), PermanentError),
        (google_http(429), TransientError),
        (google_http(500), TransientError),
        (requests.ConnectionError("refused"), TransientError),
        (requests.Timeout("slow"), TransientError),
        (gexc.Aborted("contention"), TransientError),
        (gexc.DeadlineExceeded("slow"), TransientError),
        (gexc.ServiceUnavailable("down"), TransientError),
        (gexc.InvalidArgument("key path element longer than 1500 bytes"), PermanentError),
        (gexc.InvalidArgument("document exceeds the maximum size"), PermanentError),
        (gexc.OutOfRange("value out of range"), PermanentError),
        (gexc.PermissionDenied("missing role"), TransientError),
        (gexc.FailedPrecondition("needs an index"), TransientError),
        (TimeoutError("slow"), TransientError),
        (ConnectionResetError("reset"), TransientError),
        (KeyError("bug"), TransientError),
    ],
)
def test_classify(exc: Exception, expected: type) -> None:
    verdict = classify(exc)
    assert isinstance(verdict, expected), verdict.reason
    assert verdict.reason


def test_own_errors_pass_through() -> None:
    error = PermanentError("bad input")
    assert classify(error) is error
