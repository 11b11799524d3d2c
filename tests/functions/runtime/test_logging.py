"""Structured logs: Cloud Logging's fields, trace ids, and secrets never printed."""

from __future__ import annotations

import io
import json
import logging

import pytest
from switchboard_runtime import logging as slog


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_FAKE_redaction_probe_123")
    monkeypatch.setenv(
        "GOOGLE_CALENDAR_CREDENTIALS",
        json.dumps(
            {
                "type": "service_account",
                "private_key": "FAKE-KEY-HEADER\nFAKEKEYMATERIAL123\nFAKE-KEY-FOOTER\n",
                "client_email": "sa@example.iam.gserviceaccount.com",
            }
        ),
    )
    buffer = io.StringIO()
    logger = logging.getLogger(slog.LOGGER_NAME)
    saved = list(logger.handlers)
    slog.configure(["STRIPE_API_KEY", "GOOGLE_CALENDAR_CREDENTIALS"], stream=buffer)
    yield buffer
    logger.handlers[:] = saved


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_records_are_cloud_logging_json(stream: io.StringIO) -> None:
    token = slog.bind(
        agent="billing",
        event_id="e-1",
        **slog.trace_fields(
            {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"}, "proj"
        ),
    )
    slog.get_logger().warning("hello", extra={"fields": {"outcome": "x", "latency_ms": 1.5}})
    slog.unbind(token)
    (line,) = lines(stream)
    assert line["severity"] == "WARNING" and line["message"] == "hello"
    assert line["logging.googleapis.com/trace"] == (
        "projects/proj/traces/105445aa7843bc8bf206b12000100000"
    )
    assert line["logging.googleapis.com/spanId"] == "1"
    assert line["agent"] == "billing" and line["event_id"] == "e-1"
    assert line["outcome"] == "x" and line["latency_ms"] == 1.5


def test_traceparent_is_understood() -> None:
    fields = slog.trace_fields(
        {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "p"
    )
    assert fields["logging.googleapis.com/trace"].endswith("4bf92f3577b34da6a3ce929d0e0e4736")
    assert fields["logging.googleapis.com/trace_sampled"] is True
    assert slog.trace_fields({}, "p") == {}


def test_secret_values_never_appear(stream: io.StringIO, caplog: pytest.LogCaptureFixture) -> None:
    logger = slog.get_logger()
    logger.error(
        "key is sk_test_FAKE_redaction_probe_123 oops",
        extra={"fields": {"config": {"key": "sk_test_FAKE_redaction_probe_123"}}},
    )
    try:
        raise ValueError("bad key sk_test_FAKE_redaction_probe_123")
    except ValueError:
        logger.exception("failed")
    logger.info("creds: %s", "FAKE-KEY-HEADER\nFAKEKEYMATERIAL123\nFAKE-KEY-FOOTER\n")
    text = stream.getvalue()
    assert "sk_test_FAKE_redaction_probe_123" not in text
    assert "FAKEKEYMATERIAL123" not in text
    assert text.count(slog.REDACTED) >= 4
    assert len(lines(stream)) == 3
    # Redaction rewrites the record itself, so other handlers never see a secret either.
    assert "key is" in caplog.text
    assert "sk_test_FAKE_redaction_probe_123" not in caplog.text
    assert "FAKEKEYMATERIAL123" not in caplog.text


def test_json_secret_keeps_public_identifiers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler's Calendar key carries the project id, which every line's trace link
    names: redaction blanks the key material, not the project id or the account's email."""
    project = "switchboard-prod-4711"
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", project)
    monkeypatch.setenv(
        "GOOGLE_CALENDAR_CREDENTIALS",
        json.dumps(
            {
                "type": "service_account",
                "project_id": project,
                "private_key_id": "0123456789abcdef0123456789abcdef01234567",
                "private_key": "FAKE-KEY-HEADER\nFAKEKEYMATERIAL123\nFAKE-KEY-FOOTER\n",
                "client_email": f"calendar@{project}.iam.gserviceaccount.com",
                "client_id": "123456789012345678901",
                "token_uri": "https://oauth2.googleapis.com/token",
                "unknown_field": "an-unlisted-long-value-is-redacted",
            }
        ),
    )
    buffer = io.StringIO()
    logger = logging.getLogger(slog.LOGGER_NAME)
    saved = list(logger.handlers)
    try:
        slog.configure(["GOOGLE_CALENDAR_CREDENTIALS"], stream=buffer)
        trace = slog.trace_fields(
            {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/7;o=1"}, project
        )
        token = slog.bind(agent="scheduler", **trace)
        slog.get_logger().warning(
            "calendar call for %s as calendar@%s.iam.gserviceaccount.com: key %s id %s %s",
            project,
            project,
            "FAKE-KEY-HEADER\nFAKEKEYMATERIAL123\nFAKE-KEY-FOOTER\n",
            "0123456789abcdef0123456789abcdef01234567",
            "an-unlisted-long-value-is-redacted",
        )
        slog.unbind(token)
    finally:
        logger.handlers[:] = saved
    (line,) = lines(buffer)
    assert line["logging.googleapis.com/trace"] == (
        f"projects/{project}/traces/105445aa7843bc8bf206b12000100000"
    )
    assert f"calendar call for {project} as calendar@{project}.iam" in line["message"]
    text = buffer.getvalue()
    assert "FAKEKEYMATERIAL123" not in text
    assert "0123456789abcdef0123456789abcdef01234567" not in text
    assert "an-unlisted-long-value-is-redacted" not in text
    assert text.count(slog.REDACTED) == 3
