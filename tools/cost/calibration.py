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

    def behaviour(self, agent: str, event_type: str) -> Behaviour:
        per_type = self.agents.get(agent, {})
        return per_type.get(event_type) or per_type.get("*") or Behaviour()


def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    return read_file(Calibration, path)
