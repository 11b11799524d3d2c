"""The sandbox HTTP server: routing, request recording and fault injection."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sandbox import calendar_api, stripe_api, twilio_api
from sandbox.state import Fault, State

MAX_BODY = 10 * 1024 * 1024
RECORDED_HEADERS = (
    "Idempotency-Key",
    "Authorization",
    "Content-Type",
    "User-Agent",
    "Stripe-Version",
    "X-Twilio-Client",
)


def service_of(path: str) -> str | None:
    if path.startswith("/v1/"):
        return "stripe"
    if path.startswith("/2010-04-01/"):
        return "twilio"
    if path.startswith("/calendar/v3/"):
        return "calendar"
    return None


def fault_reply(service: str, fault: Fault) -> tuple[int, dict[str, str], Any]:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if fault.body is not None:
        return fault.status, headers, fault.body
    message = f"sandbox fault: HTTP {fault.status}"
    if service == "stripe":
        kind = "api_error" if fault.status >= 500 else "invalid_request_error"
        return fault.status, headers, {"error": {"type": kind, "message": message}}
    if service == "twilio":
        return (
            fault.status,
            headers,
            {"code": 20000 + fault.status, "message": message, "status": fault.status},
        )
    return (
        fault.status,
        headers,
        {
            "error": {
                "code": fault.status,
                "message": message,
                "errors": [{"reason": "sandboxFault"}],
            }
        },
    )


class Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        state = self.server.state
        split = urlsplit(self.path)
        path, query = split.path, split.query
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY)) if length else b""
        if path.startswith("/_sandbox/"):
            self._send(*self._control(path, query, body))
            return
        service = service_of(path)
        entry = {
            "service": service,
            "method": self.command,
            "path": path,
            "query": query,
            "headers": {h: self.headers[h] for h in RECORDED_HEADERS if h in self.headers},
            "body": body.decode("utf-8", "replace"),
            "time": time.time(),
        }
        if service is None:
            entry["status"] = 404
            state.record(entry)
            self._send(404, {}, {"error": {"message": f"no sandbox service at {path}"}})
            return
        fault = state.take_fault(service, self.command, path)
        if fault is not None:
            entry["fault"] = fault.kind
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            elif fault.kind == "drop" and fault.after:
                entry["status"], _, _ = self._serve(service, path, query, body)
                entry["dropped"] = True
                state.record(entry)
                self._drop()
                return
            elif fault.kind == "drop":
                entry["status"] = None
                state.record(entry)
                self._drop()
                return
            else:
                status, headers, reply = fault_reply(service, fault)
                entry["status"] = status
                state.record(entry)
                self._send(status, headers, reply)
                return
        status, headers, reply = self._serve(service, path, query, body)
        entry["status"] = status
        state.record(entry)
        self._send(status, headers, reply)

    def _serve(self, service: str, path: str, query: str, body: bytes) -> Any:
        state = self.server.state
        if service == "stripe":
            return stripe_api.handle(
                state, self.command, path, self.headers, body, base_url=self.server.url
            )
        if service == "twilio":
            return twilio_api.handle(state, self.command, path, query, body)
        return calendar_api.handle(state, self.command, path, body)

    def _control(  # noqa: PLR0911 - one return per control endpoint
        self, path: str, query: str, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        state = self.server.state
        try:
            document = json.loads(body) if body.strip() else {}
        except json.JSONDecodeError:
            return 400, {}, {"error": "body is not JSON"}
        if path == "/_sandbox/requests" and self.command == "GET":
            service = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("service")
            with state.lock:
                found = [r for r in state.requests if service in (None, r["service"])]
            return 200, {}, {"requests": found}
        if path == "/_sandbox/reset" and self.command == "POST":
            state.reset()
            return 200, {}, {"reset": True}
        if path == "/_sandbox/faults":
            return self._faults(document)
        if path == "/_sandbox/calendar/busy" and self.command == "POST":
            if not (
                calendar_api.parse_time(document.get("start"))
                and calendar_api.parse_time(document.get("end"))
            ):
                return 400, {}, {"error": "start and end must be ISO 8601 with a timezone"}
            with state.lock:
                state.busy.append({k: document.get(k) for k in ("calendar_id", "start", "end")})
            return 200, {}, {"busy": state.busy}
        if path == "/_sandbox/state" and self.command == "GET":
            with state.lock:
                return 200, {}, {"objects": state.objects, "busy": state.busy}
        return 404, {}, {"error": f"no control endpoint {self.command} {path}"}

    def _faults(self, document: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        state = self.server.state
        if self.command == "POST":
            try:
                fault = Fault.from_json(document)
            except (ValueError, TypeError) as exc:
                return 400, {}, {"error": str(exc)}
            with state.lock:
                state.faults.append(fault)
        elif self.command == "DELETE":
            with state.lock:
                state.faults.clear()
        with state.lock:
            pending = [vars(f) for f in state.faults if f.count > 0]
        return 200, {}, {"faults": pending}

    def _send(self, status: int, headers: dict[str, str], reply: Any) -> None:
        payload = b"" if reply is None else json.dumps(reply).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _drop(self) -> None:
        """Close the connection without a response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, verbose: bool = False) -> None:
        super().__init__((host, port), Handler)
        self.state = State()
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Sandbox:
    """The server on a background thread, plus a small client for its control API."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> None:
        self.server = SandboxServer(host, port, verbose)
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="sandbox"
        )

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> Sandbox:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the control API, over HTTP like any client ----------------------------------------

    def _call(self, method: str, path: str, document: Any = None) -> Any:
        data = None if document is None else json.dumps(document).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def requests(self, service: str | None = None) -> list[dict[str, Any]]:
        query = f"?service={service}" if service else ""
        return self._call("GET", f"/_sandbox/requests{query}")["requests"]

    def reset(self) -> None:
        self._call("POST", "/_sandbox/reset", {})

    def fault(self, **fault: Any) -> None:
        self._call("POST", "/_sandbox/faults", fault)

    def busy(self, start: str, end: str, calendar_id: str | None = None) -> None:
        self._call(
            "POST",
            "/_sandbox/calendar/busy",
            {"start": start, "end": end, "calendar_id": calendar_id},
        )

    def objects(self, kind: str) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/state")["objects"].get(kind, {})
