"""Log-based metrics over the runtime's structured request log (one JSON line per request,
``jsonPayload.outcome`` = what happened; see functions/shared/switchboard_runtime)."""

from __future__ import annotations

from switchboard_contract.outcomes import (
    DEAD_LETTER_FAILED,
    PERMANENT_FAILURE,
    RUNTIME_DEAD_LETTERED,
)

PERMANENT_FAILURES_METRIC = "switchboard-permanent-failures"
PERMANENT_FAILURE_OUTCOMES = (PERMANENT_FAILURE, RUNTIME_DEAD_LETTERED, DEAD_LETTER_FAILED)
"""``dead_lettered``/``dead_letter_failed`` are what the runtime's request line carries today
for a permanent failure; ``permanent_failure`` is the agreed outcome for any further
permanent-failure line. Each permanent failure must be logged once with one of these."""

PERMANENT_FAILURES_FILTER = (
    'resource.type="cloud_run_revision" AND jsonPayload.outcome=('
    + " OR ".join(f'"{o}"' for o in PERMANENT_FAILURE_OUTCOMES)
    + ")"
)
LABEL_EXTRACTORS = {
    "agent": "EXTRACT(jsonPayload.agent)",
    "outcome": "EXTRACT(jsonPayload.outcome)",
}
