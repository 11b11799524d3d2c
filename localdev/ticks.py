"""Cloud Scheduler, locally: publish each scheduled agent's tick on its cron schedule.

A tick is what the deployed Cloud Scheduler job (``infra/scheduler/ticks.py``) publishes
to the schedule's topic: attributes ``type=tick``, ``target=<agent>``,
``source=cloud-scheduler`` and data ``{"target": <agent>}``; locally also an ``event_id``
(with ``correlation_id`` = ``event_id`` and an empty ``causation_id``, so the trace can
follow it) and the ``scheduled_at`` time in the data. ``--tick-every N`` replaces every
cron schedule with "every N seconds" for demos.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.cloud import pubsub_v1
from switchboard_contract import attributes as attr

from infra.catalogue import AgentManifest
from localdev.cron import next_fire
from localdev.trace import PUBLISHED, TraceEvent, TraceWriter

TICK_SOURCE = attr.TICK_SOURCE


def tick_message(agent: str, scheduled: datetime) -> tuple[bytes, dict[str, str]]:
    """The data and attributes of one tick (pure)."""
    event_id = uuid.uuid4().hex
    data = json.dumps(
        {"target": agent, "scheduled_at": scheduled.astimezone(UTC).isoformat()}, sort_keys=True
    ).encode()
    attributes = {
        attr.TYPE: attr.TICK_TYPE,
        attr.TARGET: agent,
        attr.EVENT_ID: event_id,
        attr.SOURCE: TICK_SOURCE,
        attr.CORRELATION_ID: event_id,
        attr.CAUSATION_ID: "",
    }
    return data, attributes


@dataclass(frozen=True)
class Schedule:
    agent: str
    topic: str
    next_time: Callable[[datetime], datetime]


def schedules(agents: list[AgentManifest], tick_every: float | None) -> list[Schedule]:
    """One schedule per scheduled agent: its cron, or every ``tick_every`` seconds."""
    result = []
    for agent in agents:
        spec = agent.schedule
        if spec is None:
            continue
        if tick_every:
            step = timedelta(seconds=tick_every)
            result.append(Schedule(agent.name, spec.topic, lambda now, step=step: now + step))
        else:
            result.append(
                Schedule(
                    agent.name,
                    spec.topic,
                    lambda now, cron=spec.cron, zone=spec.timezone: next_fire(cron, now, zone),
                )
            )
    return result


class Ticker:
    """One thread that sleeps until the next due tick, publishes it, and repeats."""

    def __init__(
        self,
        plan: list[Schedule],
        project: str,
        publisher: pubsub_v1.PublisherClient,
        trace: TraceWriter,
    ) -> None:
        self._plan = plan
        self._project = project
        self._publisher = publisher
        self._trace = trace
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ticker", daemon=True)

    def start(self) -> None:
        if self._plan:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        now = datetime.now(UTC)
        due = {schedule.agent: schedule.next_time(now) for schedule in self._plan}
        while not self._stop.is_set():
            agent = min(due, key=lambda name: due[name])
            wait = (due[agent] - datetime.now(UTC)).total_seconds()
            if wait > 0 and self._stop.wait(min(wait, 1.0)):
                return
            if wait > 1.0:
                continue
            schedule = next(s for s in self._plan if s.agent == agent)
            self._publish(schedule, due[agent])
            due[agent] = schedule.next_time(due[agent])

    def _publish(self, schedule: Schedule, scheduled: datetime) -> None:
        data, attributes = tick_message(schedule.agent, scheduled)
        topic = f"projects/{self._project}/topics/{schedule.topic}"
        try:
            message_id = self._publisher.publish(topic, data, **attributes).result(timeout=30)
        except Exception as error:
            self._trace.info(f"! tick for {schedule.agent} not published: {error}")
            return
        self._trace.emit(
            TraceEvent(
                agent="(scheduler)",
                subscription="",
                event_type="tick",
                event_id=attributes["event_id"],
                message_id=str(message_id),
                outcome=PUBLISHED,
                correlation_id=attributes["correlation_id"],
                detail=f"to {schedule.topic} for {schedule.agent}",
            )
        )
