"""Dead letters for the console, through the same code as ``python -m tools.deadletters``."""

from __future__ import annotations

import threading
from typing import Any

from infra.catalogue import Catalogue
from library.deadletters.operations import DeadLetterOps
from library.deadletters.records import DeadLetter

MAX_LISTED = 500
MAX_DATA_CHARS = 16_000


class ConsoleRequestError(ValueError):
    """A request the console refuses (the message is shown to the user)."""


def letter_json(letter: DeadLetter) -> dict[str, Any]:
    data = letter.data.decode("utf-8", errors="replace")
    return {
        "dead_letter_subscription": letter.dead_letter_subscription,
        "source_subscription": letter.source_subscription,
        "message_id": letter.message_id,
        "event_id": letter.event_id,
        "type": letter.event_type,
        "correlation_id": letter.attributes.get("correlation_id", ""),
        "reason": letter.reason,
        "attempts": letter.delivery_count,
        "age_seconds": round(letter.age_seconds(), 1),
        "publish_time": letter.publish_time.isoformat(),
        "attributes": letter.attributes,
        "data": data[:MAX_DATA_CHARS],
        "data_truncated": len(data) > MAX_DATA_CHARS,
    }


class DeadLettersView:
    """One :class:`DeadLetterOps` (created on first use), one operation at a time."""

    def __init__(self, project: str, catalogue: Catalogue) -> None:
        self.project = project
        self.catalogue = catalogue
        self._ops: DeadLetterOps | None = None
        self._lock = threading.Lock()

    def _consumers(self, ops: DeadLetterOps, subscription: str | None) -> list[Any]:
        if subscription is not None and subscription not in {
            name
            for c in self.catalogue.consumers()
            for name in (c.subscription_id, c.dead_letter_subscription_id)
        }:
            raise ConsoleRequestError(f"no agent subscription is named {subscription!r}")
        return ops.consumers(None, subscription)

    def _run(self, action: Any) -> Any:
        with self._lock:
            if self._ops is None:
                self._ops = DeadLetterOps(self.project, self.catalogue)
            return action(self._ops)

    def list(self, subscription: str | None = None) -> dict[str, Any]:
        def peek(ops: DeadLetterOps) -> dict[str, Any]:
            consumers = self._consumers(ops, subscription)
            letters = ops.peek(consumers)
            per = {c.subscription_id: 0 for c in consumers}
            for letter in letters:
                per[letter.source_subscription] = per.get(letter.source_subscription, 0) + 1
            return {
                "letters": [letter_json(d) for d in letters[:MAX_LISTED]],
                "total": len(letters),
                "per_subscription": per,
            }

        return self._run(peek)

    def redrive(self, subscription: str, message_ids: set[str] | None) -> list[dict[str, Any]]:
        def redrive(ops: DeadLetterOps) -> list[dict[str, Any]]:
            results = ops.redrive(self._consumers(ops, subscription), message_ids)
            return [
                {
                    "message_id": r.message_id,
                    "target_subscription": r.target_subscription,
                    "topic": r.topic,
                    "published_id": r.published_id,
                }
                for r in results
            ]

        return self._run(redrive)

    def purge(self, subscription: str) -> int:
        return int(self._run(lambda ops: ops.purge(self._consumers(ops, subscription))))

    def close(self) -> None:
        with self._lock:
            if self._ops is not None:
                self._ops.close()
                self._ops = None
