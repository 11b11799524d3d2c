"""What each agent does per delivery (``cost/calibration.json``), measured by
``make cost-calibrate`` on the local platform (tools/cost/calibrate.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.cost.inputs import read_file

CALIBRATION_FILE = Path(__file__).resolve().parents[2] / "cost" / "calibration.json"
PerDelivery = Annotated[float, Field(ge=0, le=10_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Behaviour(_Strict):
    """Averages per delivery of one event type to one agent."""

    deliveries: Annotated[int, Field(ge=0)] = 0
    """How many deliveries the averages come from (0: not measured, a stated default)."""
    follow_ups: dict[str, PerDelivery] = Field(default_factory=dict, max_length=64)
    firestore_reads: PerDelivery = 0
    firestore_writes: PerDelivery = 0
    firestore_deletes: PerDelivery = 0
    documents_kept: PerDelivery = 0
    """New documents in collections without a TTL (they stay, so storage grows)."""
    third_party_calls: PerDelivery = 0
    log_lines: PerDelivery = 0
    log_bytes: PerDelivery = 0
    duration_ms: Annotated[float, Field(ge=0, le=3_600_000)] = 0
    """Wall-clock handler time per delivery on the local platform."""
    cpu_ms: Annotated[float, Field(ge=0, le=3_600_000)] = 0
    """CPU time the agent's process used per delivery (the part that slows down on a
    fractional vCPU); the rest of ``duration_ms`` is waiting (I/O, emulators, sandbox)."""


class Calibration(_Strict):
    format: Literal["switchboard-calibration/1"]
    measured_at: str
    how: str
    agents: dict[str, dict[str, Behaviour]] = Field(max_length=256)
    """agent -> event type (``*``: any type not listed) -> behaviour."""

    def measured(self, agent: str) -> bool:
        """Whether the run delivered anything to the agent (an agent added since the last
        ``make cost-calibrate`` is not: its figures are all zero, and the report says so)."""
        return any(b.deliveries for b in self.agents.get(agent, {}).values())

    def behaviour(self, agent: str, event_type: str) -> Behaviour:
        """The measured behaviour; for a type the run did not deliver to the agent, its
        ``*`` entry, else the mean of its measured types weighted by deliveries, with no
        follow-ups (what another type publishes says nothing about this one)."""
        per_type = self.agents.get(agent, {})
        found = per_type.get(event_type) or per_type.get("*")
        if found is not None:
            return found
        measured = [b for b in per_type.values() if b.deliveries]
        total = sum(b.deliveries for b in measured)
        if not total:
            return Behaviour()
        fields = (
            "firestore_reads",
            "firestore_writes",
            "firestore_deletes",
            "documents_kept",
            "third_party_calls",
            "log_lines",
            "log_bytes",
            "duration_ms",
            "cpu_ms",
        )
        return Behaviour(
            **{f: sum(getattr(b, f) * b.deliveries for b in measured) / total for f in fields}
        )


def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    return read_file(Calibration, path)
