"""The Calendar v3 subset under ``/calendar/v3/``: freeBusy, events insert/get/patch/delete.

Events take the client-chosen ``id`` (base32hex: a-v and 0-9, 5 to 1024 characters); a
second insert with the same id is a 409 ``duplicate``. A deleted event answers 410 to
another delete, like Calendar. Busy time is every live event plus the blocks added with
``POST /_sandbox/calendar/busy``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import unquote

from sandbox.state import State

Reply = tuple[int, dict[str, str], Any]
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
EVENTS = re.compile(r"^/calendar/v3/calendars/(?P<cal>[^/]+)/events(?:/(?P<event>[^/]+))?$")


def error(status: int, reason: str, message: str) -> Reply:
    return (
        status,
        {},
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"domain": "global", "reason": reason, "message": message}],
            }
        },
    )


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def handle(state: State, method: str, path: str, body: bytes) -> Reply:  # noqa: PLR0911
    try:
        document = json.loads(body) if body.strip() else {}
    except json.JSONDecodeError:
        return error(400, "parseError", "Parse Error")
    if path == "/calendar/v3/freeBusy" and method == "POST":
        return _freebusy(state, document)
    match = EVENTS.match(path)
    if match is None:
        return error(404, "notFound", "Not Found")
    calendar, event_id = unquote(match["cal"]), match["event"]
    with state.lock:
        if event_id is None and method == "POST":
            return _insert(state, calendar, document)
        if event_id is None:
            return error(405, "methodNotAllowed", "Method not allowed")
        key = f"{calendar}/{unquote(event_id)}"
        events = state.store("calendar.events")
        found = events.get(key)
        if found is None:
            return error(404, "notFound", "Not Found")
        if method == "GET":
            return 200, {}, found
        if method == "DELETE":
            if found["status"] == "cancelled":
                return error(410, "deleted", "Resource has been deleted")
            found["status"] = "cancelled"
            return 204, {}, None
        if method in ("PATCH", "PUT"):
            found.update({k: v for k, v in document.items() if k != "id"})
            return 200, {}, found
    return error(405, "methodNotAllowed", "Method not allowed")


def _insert(state: State, calendar: str, document: dict[str, Any]) -> Reply:
    event_id = document.get("id")
    if event_id is not None and not EVENT_ID.match(str(event_id)):
        return error(400, "invalid", "Invalid resource id value.")
    start = parse_time((document.get("start") or {}).get("dateTime"))
    end = parse_time((document.get("end") or {}).get("dateTime"))
    if start is None or end is None or end <= start:
        return error(400, "timeRangeEmpty", "The specified time range is empty.")
    event_id = event_id or f"sbx{state.next_number():010d}"
    events = state.store("calendar.events")
    key = f"{calendar}/{event_id}"
    if key in events:
        return error(409, "duplicate", "The requested identifier already exists.")
    event = {
        **document,
        "kind": "calendar#event",
        "id": event_id,
        "status": document.get("status", "confirmed"),
        "htmlLink": f"https://calendar.sandbox/event?eid={event_id}",
        "calendar_id": calendar,
    }
    events[key] = event
    return 200, {}, event


def _freebusy(state: State, document: dict[str, Any]) -> Reply:
    low, high = parse_time(document.get("timeMin")), parse_time(document.get("timeMax"))
    if low is None or high is None or high <= low:
        return error(400, "timeRangeEmpty", "The specified time range is empty.")
    calendars: dict[str, Any] = {}
    with state.lock:
        for item in document.get("items") or []:
            calendar = item.get("id", "")
            blocks = []
            for event in state.store("calendar.events").values():
                if event["calendar_id"] != calendar or event["status"] == "cancelled":
                    continue
                if event.get("transparency") == "transparent":
                    continue
                blocks.append((event["start"]["dateTime"], event["end"]["dateTime"]))
            for block in state.busy:
                if block.get("calendar_id") in (None, calendar):
                    blocks.append((block["start"], block["end"]))
            busy = []
            for start, end in blocks:
                s, e = parse_time(start), parse_time(end)
                if s is not None and e is not None and s < high and e > low:
                    busy.append({"start": start, "end": end})
            calendars[calendar] = {"busy": busy}
    return (
        200,
        {},
        {
            "kind": "calendar#freeBusy",
            "timeMin": document["timeMin"],
            "timeMax": document["timeMax"],
            "calendars": calendars,
        },
    )
