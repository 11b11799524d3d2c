"""The Twilio subset: ``/2010-04-01/Accounts/{sid}/Messages.json`` create and list."""

from __future__ import annotations

import email.utils
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from sandbox.state import State

Reply = tuple[int, dict[str, str], Any]
PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages(?:/(?P<sid>SM\w+))?\.json$"
)
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def error(status: int, code: int, message: str) -> Reply:
    return (
        status,
        {},
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def handle(state: State, method: str, path: str, query: str, body: bytes) -> Reply:
    match = PATH.match(path)
    if match is None:
        return error(404, 20404, f"The requested resource {path} was not found")
    account, sid = match["account"], match["sid"]
    messages = state.store("twilio.messages")
    if sid is not None:
        found = messages.get(sid)
        if method != "GET" or found is None or found["account_sid"] != account:
            return error(404, 20404, f"The requested resource {path} was not found")
        return 200, {}, found
    if method == "POST":
        return _create(state, account, dict(parse_qsl(body.decode("utf-8", "replace"))))
    if method == "GET":
        return _list(messages, account, parse_qs(query), path)
    return error(405, 20004, "Method not allowed")


def _create(state: State, account: str, params: dict[str, str]) -> Reply:
    to, sender, text = params.get("To", ""), params.get("From", ""), params.get("Body", "")
    if not E164.match(to):
        return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not sender and not params.get("MessagingServiceSid"):
        return error(400, 21603, "A 'From' phone number is required.")
    if not text:
        return error(400, 21602, "Message body is required.")
    sid = "SM" + secrets.token_hex(16)
    now = email.utils.formatdate(time.time(), usegmt=False)
    message = {
        "sid": sid,
        "account_sid": account,
        "api_version": "2010-04-01",
        "to": to,
        "from": sender,
        "body": text,
        "status": "queued",
        "direction": "outbound-api",
        "num_segments": "1",
        "num_media": "0",
        "date_created": now,
        "date_updated": now,
        "date_sent": now,
        "error_code": None,
        "error_message": None,
        "price": None,
        "price_unit": "USD",
        "messaging_service_sid": params.get("MessagingServiceSid"),
        "status_callback": params.get("StatusCallback"),
        "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        "subresource_uris": {},
        "created_epoch": time.time(),
    }
    with state.lock:
        state.store("twilio.messages")[sid] = message
    return 201, {}, message


def _list(messages: dict[str, Any], account: str, query: dict[str, list[str]], path: str) -> Reply:
    def first(name: str) -> str | None:
        values = query.get(name)
        return values[0] if values else None

    found = [m for m in messages.values() if m["account_sid"] == account]
    if to := first("To"):
        found = [m for m in found if m["to"] == to]
    if sender := first("From"):
        found = [m for m in found if m["from"] == sender]
    found.sort(key=lambda m: m["created_epoch"], reverse=True)
    size = int(first("PageSize") or 50)
    page = found[:size]
    return (
        200,
        {},
        {
            "messages": page,
            "page": 0,
            "page_size": size,
            "start": 0,
            "end": max(0, len(page) - 1),
            "uri": path,
            "first_page_uri": path,
            "next_page_uri": None,
            "previous_page_uri": None,
        },
    )
