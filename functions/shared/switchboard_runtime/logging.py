"""Structured JSON logs on stdout, in the shape Cloud Logging parses.

One JSON object per line with ``severity``, ``message``, ``logging.googleapis.com/trace``
(from ``X-Cloud-Trace-Context`` or ``traceparent`` and GOOGLE_CLOUD_PROJECT),
``logging.googleapis.com/spanId`` and the fields handlers add (agent, event_id,
correlation_id, type, outcome, latency_ms). This is the same format as
google-cloud-logging's ``StructuredLogHandler``, written here with the standard library
so that no client library is imported on a cold start.

Every value of the agent's secret environment variables (and, for JSON secrets such as a
service-account key, each long string inside them) is replaced by ``[REDACTED]`` in
every record, message, field and traceback. Inside a JSON secret, the fields that are
public configuration rather than secret material (``PUBLIC_CREDENTIAL_FIELDS``: the
project id, the service account's email, token and certificate URLs ...) are not
redacted: the project id is part of every line's trace link, and blanking it would break
trace correlation. Everything else in it (private keys, key ids, client secrets, refresh
tokens, and any field not on that list) is.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import sys
import traceback
from collections.abc import Iterable
from typing import Any

from switchboard_contract.environment import LOG_LEVEL

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 6
SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
TRACE_KEY = "logging.googleapis.com/trace"
SPAN_KEY = "logging.googleapis.com/spanId"
SAMPLED_KEY = "logging.googleapis.com/trace_sampled"
LOGGER_NAME = "switchboard"
PUBLIC_CREDENTIAL_FIELDS = frozenset(
    {
        # Google service-account, authorized-user and external-account key files: the
        # identifiers and endpoints that also appear in IAM policies, logs and config.
        "type",
        "project_id",
        "quota_project_id",
        "client_email",
        "client_id",
        "auth_uri",
        "token_uri",
        "token_url",
        "token_info_url",
        "auth_provider_x509_cert_url",
        "client_x509_cert_url",
        "universe_domain",
        "audience",
        "subject_token_type",
        "service_account_impersonation_url",
        "workforce_pool_user_project",
    }
)
"""Fields of a JSON secret whose string values are identifiers, not secret material.
An allow-list: a field not named here is redacted."""

# Fields bound to the current request (trace, agent, event_id, ...), per thread/context.
_request_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "switchboard_log_fields", default=None
)


def secret_values(names: Iterable[str]) -> list[str]:
    """The strings to redact for the secret env vars ``names`` (longest first). Every log
    record asks, so the work is cached per distinct set of secret values."""
    return list(_secret_values(tuple((name, os.environ.get(name, "")) for name in names)))


@functools.lru_cache(maxsize=8)
def _secret_values(environment: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    values: set[str] = set()
    for _name, value in environment:
        if len(value) < MIN_SECRET_LENGTH:
            continue
        values.add(value)
        values.add(json.dumps(value)[1:-1])  # as it appears inside JSON output
        try:
            document = json.loads(value)
        except (ValueError, TypeError):
            continue
        for leaf in _secret_leaves(document):
            if len(leaf) >= 16:
                values.add(leaf)
                values.add(json.dumps(leaf)[1:-1])
    return tuple(sorted(values, key=len, reverse=True))


def _secret_leaves(document: Any) -> Iterable[str]:
    """Every string inside ``document`` except the values of public credential fields."""
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for key, value in document.items():
            if key in PUBLIC_CREDENTIAL_FIELDS and isinstance(value, str):
                continue
            yield from _secret_leaves(value)
    elif isinstance(document, list):
        for value in document:
            yield from _secret_leaves(value)


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactionFilter(logging.Filter):
    """Rewrites each record of the logger so no handler ever sees a secret value."""

    def __init__(self, secret_names: Iterable[str] = ()) -> None:
        super().__init__()
        self.secret_names = tuple(secret_names)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = secret_values(self.secret_names)
        if not secrets:
            return True
        record.msg, record.args = redact(record.getMessage(), secrets), None
        if record.exc_info:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text, record.exc_info = redact(text, secrets), None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = json.loads(redact(json.dumps(fields, default=str), secrets))
        return True


class JsonFormatter(logging.Formatter):
    """A log record as one Cloud Logging JSON line, with secrets redacted."""

    def __init__(self, secret_names: Iterable[str] = ()) -> None:
        super().__init__()
        self.secret_names = tuple(secret_names)

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "severity": SEVERITY.get(record.levelno, record.levelname),
            "message": record.getMessage(),
            "logger": record.name,
        }
        payload.update(_request_fields.get() or {})
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            payload["message"] += "\n" + "".join(traceback.format_exception(*record.exc_info))
        elif record.exc_text:
            payload["message"] += "\n" + record.exc_text
        line = json.dumps(payload, default=str, ensure_ascii=False)
        return redact(line, secret_values(self.secret_names))


class _StdoutHandler(logging.Handler):
    """Writes to the stream given, else to whatever ``sys.stdout`` is at emit time."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__()
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = self._stream or sys.stdout
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def trace_fields(headers: Any, project: str | None) -> dict[str, Any]:
    """Cloud Logging trace fields from ``X-Cloud-Trace-Context`` or W3C ``traceparent``."""
    trace_id = span_id = None
    sampled = False
    cloud = headers.get("X-Cloud-Trace-Context") if headers is not None else None
    parent = headers.get("traceparent") if headers is not None else None
    if cloud:
        head, _, options = cloud.partition(";")
        trace_id, _, span_id = head.partition("/")
        sampled = options.strip() == "o=1"
    elif parent:
        parts = parent.split("-")
        if len(parts) == 4 and len(parts[1]) == 32:
            trace_id, span_id, sampled = parts[1], parts[2], parts[3].endswith("1")
    if not trace_id or not project:
        return {}
    fields: dict[str, Any] = {TRACE_KEY: f"projects/{project}/traces/{trace_id}"}
    if span_id:
        fields[SPAN_KEY] = span_id
    fields[SAMPLED_KEY] = sampled
    return fields


def bind(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Add fields to every record logged in this request's context."""
    current = dict(_request_fields.get() or {})
    current.update({k: v for k, v in fields.items() if v not in (None, "")})
    return _request_fields.set(current)


def unbind(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _request_fields.reset(token)


def configure(secret_names: Iterable[str] = (), stream: Any = None) -> logging.Logger:
    """The ``switchboard`` logger writing JSON lines to stdout (idempotent)."""
    logger = logging.getLogger(LOGGER_NAME)
    level = os.environ.get(LOG_LEVEL, "INFO").upper()
    logger.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    logger.propagate = False
    names = set(secret_names)
    for handler in list(logger.handlers):
        if getattr(handler, "switchboard", False):
            names.update(handler.formatter.secret_names)  # type: ignore[union-attr]
            logger.removeHandler(handler)
    for old in [f for f in logger.filters if isinstance(f, RedactionFilter)]:
        logger.removeFilter(old)
    logger.addFilter(RedactionFilter(sorted(names)))
    handler = _StdoutHandler(stream)
    handler.switchboard = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter(sorted(names)))
    logger.addHandler(handler)
    return logger


def get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)
