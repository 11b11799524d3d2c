"""A stack's traffic profile (``cost/traffic/<stack>.yaml``); the format is in docs/cost.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.cost.inputs import read_file

TRAFFIC_DIR = Path(__file__).resolve().parents[2] / "cost" / "traffic"
MAX_EVENTS_PER_DAY = 1e9
Rate = Annotated[float, Field(ge=0, le=MAX_EVENTS_PER_DAY)]
Fraction = Annotated[float, Field(ge=0, lt=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FirestoreProfile(_Strict):
    document_bytes: Annotated[int, Field(ge=1, le=1_048_576)] = 1024
    """Average stored size of a document the agents keep (data, metadata and indexes)."""
    initial_gib: Annotated[float, Field(ge=0, le=1e6)] = 0.0


class BuildProfile(_Strict):
    deploys_per_month: Annotated[float, Field(ge=0, le=10_000)] = 0
    minutes_per_build: Annotated[float, Field(ge=0, le=600)] = 2
    image_gib_per_agent: Annotated[float, Field(ge=0, le=100)] = 0.3
    images_kept_per_agent: Annotated[int, Field(ge=0, le=1000)] = 10


class TrafficProfile(_Strict):
    format: Literal["switchboard-traffic/1"]
    stack: str
    origin_events_per_day: dict[str, Rate] = Field(max_length=256)
    """Events the gateway injects, by event type (schedules come from their cron)."""
    failure_rate: dict[str, Fraction] = Field(default_factory=dict, max_length=256)
    """Fraction of delivery attempts each agent fails (nacks); retried up to the policy."""
    message_bytes: Annotated[int, Field(ge=1, le=10_485_760)] = 600
    cold_starts_per_day: Annotated[float, Field(ge=0, le=1e6)] = 24
    """Instance starts per agent per day (each start reads the agent's secrets once)."""
    nat_egress_gib_per_month: Annotated[float, Field(ge=0, le=1e6)] = 0.0
    growth_per_month: Annotated[float, Field(ge=0, le=10)] = 0.0
    """Traffic growth per month (0.05 = 5 % a month, compounded) for the month-12 figure."""
    firestore: FirestoreProfile = FirestoreProfile()
    build: BuildProfile = BuildProfile()

    def scaled(self, factor: float) -> TrafficProfile:
        """The same profile with every origin rate multiplied by ``factor``."""
        rates = {t: r * factor for t, r in self.origin_events_per_day.items()}
        return self.model_copy(update={"origin_events_per_day": rates})


def traffic_path(stack: str) -> Path:
    return TRAFFIC_DIR / f"{stack}.yaml"


def load_traffic(path: Path) -> TrafficProfile:
    return read_file(TrafficProfile, path)
