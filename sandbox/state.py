"""The sandbox's memory: recorded requests, pending faults and each service's objects."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

SERVICES = ("stripe", "twilio", "calendar")


@dataclass
class Fault:
    """One injected fault, applied to the next ``count`` matching requests."""

    kind: str  # status | slow | drop
    service: str = "any"
    count: int = 1
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    path: str | None = None  # applies only to paths containing this text
    method: str | None = None
    body: Any = None
    after: bool = False  # drop: serve the request (its side effect happens), then drop

    def matches(self, service: str, method: str, path: str) -> bool:
        return (
            self.count > 0
            and self.service in ("any", service)
            and (self.path is None or self.path in path)
            and (self.method is None or self.method.upper() == method)
        )

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Fault:
        kind = document.get("kind")
        if kind not in ("status", "slow", "drop"):
            raise ValueError("kind must be one of status, slow, drop")
        service = document.get("service", "any")
        if service not in (*SERVICES, "any"):
            raise ValueError(f"service must be one of {', '.join(SERVICES)}, any")
        return cls(
            kind=kind,
            service=service,
            count=int(document.get("count", 1)),
            status=int(document.get("status", 500)),
            retry_after=document.get("retry_after"),
            seconds=float(document.get("seconds", 0.0)),
            path=document.get("path"),
            method=document.get("method"),
            body=document.get("body"),
            after=bool(document.get("after", False)),
        )


@dataclass
class State:
    lock: threading.RLock = field(default_factory=threading.RLock)
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    busy: list[dict[str, Any]] = field(default_factory=list)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self.objects.clear()
            self.idempotency.clear()
            self.busy.clear()

    def take_fault(self, service: str, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(service, method, path):
                    fault.count -= 1
                    return fault
            return None

    def store(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(kind, {})

    def next_number(self) -> int:
        return next(self.counter)

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            entry["seq"] = len(self.requests) + 1
            entry.setdefault("time", time.time())
            self.requests.append(entry)
