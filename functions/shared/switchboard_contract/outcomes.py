"""Outcome names: what the runtime answers a delivery with, and what the local platform's
trace records about it.

Two different dead-letterings exist and are named apart:

- :data:`RUNTIME_DEAD_LETTERED` (``dead_lettered``): the agent's runtime published a
  permanent failure to the dead-letter topic itself and answered 200 (Pub/Sub acked it);
- :data:`PLATFORM_DEAD_LETTERED` (``dead-lettered``): the platform (Pub/Sub, or the local
  platform's push loop) forwarded the message after its last failed delivery attempt.
"""

from __future__ import annotations

# The runtime's ``outcome`` (its request log line, its answer body, the idempotency record).
PROCESSED = "processed"
DUPLICATE = "duplicate"
RUNTIME_RETRY = "retry"
"""The runtime answered 503: Pub/Sub redelivers after its backoff."""
BUSY = "busy"
RUNTIME_DEAD_LETTERED = "dead_lettered"
DEAD_LETTER_FAILED = "dead_letter_failed"
PERMANENT_FAILURE = "permanent_failure"

# The local platform's trace outcomes (``trace.jsonl``: one per delivery or publish).
ACKED = "acked"
RETRY = "retry"
PLATFORM_DEAD_LETTERED = "dead-lettered"
FILTERED_OUT = "filtered out"
PUBLISHED = "published"
DUPLICATE_INJECTED = "duplicate injected"
"""A fault the local platform injected: the same message pushed twice."""
TRACE_OUTCOMES = (ACKED, RETRY, PLATFORM_DEAD_LETTERED, FILTERED_OUT, PUBLISHED, DUPLICATE_INJECTED)
