"""Read-only views of the Firestore emulator, through the official client."""

from __future__ import annotations

import base64
import datetime as dt
import threading
from collections.abc import Iterable
from typing import Any

MAX_COLLECTIONS = 50
MAX_DOCUMENTS = 500
MAX_KEYS = 300
CLAIMS = "processed_events"
IN_QUERY_LIMIT = 30
LINK_FIELDS = ("booking_id", "event_id", "correlation_id", "causation_id")


def plain(value: Any) -> Any:
    """A Firestore value as JSON: timestamps ISO 8601, bytes base64, references paths."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    path = getattr(value, "path", None)
    return path if isinstance(path, str) else str(value)


def document_json(snapshot: Any) -> dict[str, Any]:
    return {
        "collection": snapshot.reference.parent.id,
        "id": snapshot.id,
        "path": snapshot.reference.path,
        "fields": plain(snapshot.to_dict() or {}),
        "update_time": snapshot.update_time.isoformat() if snapshot.update_time else None,
    }


class FirestoreView:
    def __init__(self, project: str) -> None:
        self.project = project
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from google.cloud import firestore

                self._client = firestore.Client(project=self.project)
            return self._client

    def collections(self) -> list[str]:
        found = []
        for collection in self.client().collections():
            found.append(collection.id)
            if len(found) >= MAX_COLLECTIONS:
                break
        return sorted(found)

    def documents(self, collection: str, limit: int) -> list[dict[str, Any]]:
        query = self.client().collection(collection).limit(min(limit, MAX_DOCUMENTS))
        return [document_json(snapshot) for snapshot in query.stream()]

    def related(
        self, agents: Iterable[str], event_ids: set[str], keys: set[str]
    ) -> list[dict[str, Any]]:
        """Every document an agent wrote for these events: claims ``<agent>:<event id>``,
        documents named by an event id or another key (a booking id), and documents whose
        booking/event/correlation/causation id field is one of them."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        client = self.client()
        names = sorted(event_ids | keys)[:MAX_KEYS]
        found: dict[str, dict[str, Any]] = {}
        claims = [f"{agent}:{event_id}" for agent in agents for event_id in sorted(event_ids)]
        references = [client.collection(CLAIMS).document(c) for c in claims[:MAX_KEYS]]
        for name in self.collections():
            if name != CLAIMS:
                references += [client.collection(name).document(n) for n in names]
            for field in LINK_FIELDS:
                for start in range(0, len(names), IN_QUERY_LIMIT):
                    chunk = names[start : start + IN_QUERY_LIMIT]
                    query = (
                        client.collection(name)
                        .where(filter=FieldFilter(field, "in", chunk))
                        .limit(100)
                    )
                    for snapshot in query.stream():
                        found[snapshot.reference.path] = document_json(snapshot)
        for snapshot in client.get_all(references):
            if snapshot.exists:
                found[snapshot.reference.path] = document_json(snapshot)
        return sorted(found.values(), key=lambda d: (d["update_time"] or "", d["path"]))
