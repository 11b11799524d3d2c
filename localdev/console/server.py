"""The console's HTTP server: the page, a JSON API and a server-sent event stream.

Stdlib ``ThreadingHTTPServer`` in a daemon thread of the platform's process, bound to
127.0.0.1. Every request is checked by :mod:`localdev.console.guard`; the page gets a
strict Content-Security-Policy (its own scripts only, no inline code).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from switchboard_contract.outcomes import TRACE_OUTCOMES

from infra.catalogue import Catalogue
from localdev.console import guard
from localdev.console.deadletters_view import ConsoleRequestError, DeadLettersView
from localdev.console.firestore_view import FirestoreView
from localdev.console.graph import graph_document
from localdev.console.guard import RefusedError
from localdev.console.sandbox_view import SandboxView
from localdev.console.story import build_story, scope
from localdev.console.story_picture import story_picture
from localdev.console.tap import Tap
from localdev.console.trace_tail import TraceTail

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/console.js": ("console.js", "text/javascript; charset=utf-8"),
    "/console.css": ("console.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MAX_STREAMS = 8
STREAM_BACKLOG = 300
STREAM_BATCH = 500
HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 0.5
STREAM_INTERVAL_SECONDS = 0.5
MAX_ROWS = 1_000
OUTCOMES = TRACE_OUTCOMES


class Console:
    """The console of one running platform; :meth:`start` binds and serves, :meth:`stop`."""

    def __init__(
        self,
        catalogue: Catalogue,
        state: dict[str, Any],
        *,
        state_file: Path,
        host: str,
        port: int,
        subscriber: Any,
    ) -> None:
        self.catalogue = catalogue
        self.state = state
        self.state_file = state_file
        self.project = str(state["project"])
        self.trace = TraceTail(Path(state["trace"]))
        self.tap = Tap(self.project, list(catalogue.topics), subscriber)
        self.firestore = FirestoreView(self.project)
        sandbox = state.get("sandbox") or {}
        self.sandbox = SandboxView(sandbox.get("url"))
        self.dead_letters = DeadLettersView(self.project, catalogue)
        self.graph = graph_document(catalogue)
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.server.console = self  # type: ignore[attr-defined]
        self.port = int(self.server.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self._threads: list[threading.Thread] = []
        self._client: Any = None
        self._client_lock = threading.Lock()

    def start(self) -> None:
        self.tap.start()
        for target, name in (
            (self.server.serve_forever, "console-http"),
            (self._follow, "console-trace"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        if self._threads:  # shutdown() waits for serve_forever, so only once it runs
            self.server.shutdown()
        self.server.server_close()
        self.tap.stop()
        self.dead_letters.close()

    def _follow(self) -> None:
        while not self.stopping.wait(POLL_SECONDS):
            if self.trace.poll():
                with self.changed:
                    self.changed.notify_all()

    # -- answers -------------------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "started_at": self.state.get("started_at"),
            "agents": {name: info["url"] for name, info in self.state["agents"].items()},
            "topics": {
                name: list(topic.event_types) for name, topic in self.catalogue.topics.items()
            },
            "subscriptions": [
                {
                    "subscription": c.subscription_id,
                    "agent": c.agent.name,
                    "topic": c.topic,
                    "dead_letter_subscription": c.dead_letter_subscription_id,
                    "max_delivery_attempts": c.spec.max_delivery_attempts,
                }
                for c in self.catalogue.consumers()
            ],
            "sandbox": bool(self.sandbox.url),
            "outcomes": list(OUTCOMES),
        }

    def deliveries(self, query: dict[str, str]) -> dict[str, Any]:
        agent = guard.a_name(query.get("agent"), "agent")
        event_type = guard.a_name(query.get("type"), "type")
        outcome = query.get("outcome") or None
        if outcome is not None and outcome not in OUTCOMES:
            raise RefusedError(400, f"outcome must be one of {', '.join(OUTCOMES)}")
        correlation = guard.an_id(query.get("correlation"), "correlation", required=False)
        limit = guard.bounded(query.get("limit"), 200, 1, MAX_ROWS, "limit")

        def keep(record: dict[str, Any]) -> bool:
            return (
                (agent is None or record.get("agent") == agent)
                and (event_type is None or record.get("event_type") == event_type)
                and (outcome is None or record.get("outcome") == outcome)
                and (correlation is None or record.get("correlation_id") == correlation)
            )

        return {"rows": self.trace.select(keep, limit)}

    def message(self, query: dict[str, str]) -> dict[str, Any]:
        wanted = guard.an_id(query.get("id"), "id")
        self.trace.poll()
        attempts = self.trace.select(
            lambda r: wanted in (r.get("message_id"), r.get("event_id")), MAX_ROWS
        )
        ids = {wanted} | {str(r.get("message_id")) for r in attempts}
        messages = [
            m.to_json() for m in self.tap.store.all() if m.message_id in ids or m.event_id == wanted
        ]
        if not messages and not attempts:
            raise RefusedError(404, f"no message or event {wanted} in this run")
        return {"messages": messages, "attempts": attempts}

    def story(self, query: dict[str, str]) -> dict[str, Any]:
        seed = guard.an_id(query.get("id"), "id")
        assert seed is not None
        self.trace.poll()
        messages = self.tap.store.all()
        trace = self.trace.select(lambda _r: True, self.trace.last_seq or 1)
        found = scope(seed, messages, trace)
        if not found.event_ids:
            raise RefusedError(404, f"no event or correlation {seed} in this run")
        letters = self.dead_letters.list()["letters"]
        documents = self.firestore.related(
            self.catalogue.agents, found.event_ids, found.booking_ids
        )
        story = build_story(seed, found, messages, trace, letters, documents, self.sandbox.calls())
        story["picture"] = story_picture(story, self.catalogue)
        return story

    def dead_letter_list(self, query: dict[str, str]) -> dict[str, Any]:
        subscription = guard.a_name(query.get("subscription"), "subscription")
        return self.dead_letters.list(subscription)

    def redrive(self, body: dict[str, Any]) -> dict[str, Any]:
        subscription = guard.a_name(_text(body, "subscription"), "subscription", required=True)
        assert subscription is not None
        ids = body.get("message_ids")
        if ids is not None:
            if not isinstance(ids, list) or len(ids) > 1000:
                raise RefusedError(400, "message_ids must be a list of at most 1000 ids")
            ids = {guard.an_id(str(i), "message id") for i in ids}
        results = self.dead_letters.redrive(subscription, ids)
        return {"redriven": results}

    def purge(self, body: dict[str, Any]) -> dict[str, Any]:
        subscription = guard.a_name(_text(body, "subscription"), "subscription", required=True)
        assert subscription is not None
        if body.get("confirm") != subscription:
            raise RefusedError(400, "type the subscription's name to confirm the purge")
        return {"purged": self.dead_letters.purge(subscription)}

    def event_types(self) -> dict[str, Any]:
        from localdev.console.publishing import event_types

        return {"types": event_types(self.catalogue)}

    def publish(self, body: dict[str, Any]) -> dict[str, Any]:
        from localdev.console.publishing import publish
        from localdev.scenario_client import PlatformClient

        with self._client_lock:
            if self._client is None:
                self._client = PlatformClient(self.state_file)
        return publish(self.catalogue, self._client, body)

    def collections(self) -> dict[str, Any]:
        return {"collections": self.firestore.collections()}

    def documents(self, query: dict[str, str]) -> dict[str, Any]:
        collection = guard.a_name(query.get("collection"), "collection", required=True)
        assert collection is not None
        limit = guard.bounded(query.get("limit"), 100, 1, 500, "limit")
        return {"collection": collection, "documents": self.firestore.documents(collection, limit)}

    def calls(self, query: dict[str, str]) -> dict[str, Any]:
        service = query.get("service") or None
        if service is not None and service not in ("stripe", "twilio", "calendar"):
            raise RefusedError(400, "service must be stripe, twilio or calendar")
        limit = guard.bounded(query.get("limit"), 200, 1, MAX_ROWS, "limit")
        return {"calls": self.sandbox.calls(service)[-limit:], "sandbox": bool(self.sandbox.url)}


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) else None


GETS = {
    "/api/overview": lambda c, q: c.overview(),
    "/api/graph": lambda c, q: c.graph,
    "/api/counts": lambda c, q: {"counts": c.trace.counts()},
    "/api/deliveries": lambda c, q: c.deliveries(q),
    "/api/message": lambda c, q: c.message(q),
    "/api/story": lambda c, q: c.story(q),
    "/api/deadletters": lambda c, q: c.dead_letter_list(q),
    "/api/event-types": lambda c, q: c.event_types(),
    "/api/data/collections": lambda c, q: c.collections(),
    "/api/data/documents": lambda c, q: c.documents(q),
    "/api/sandbox/calls": lambda c, q: c.calls(q),
}
POSTS = {
    "/api/deadletters/redrive": lambda c, b: c.redrive(b),
    "/api/deadletters/purge": lambda c, b: c.purge(b),
    "/api/publish": lambda c, b: c.publish(b),
}


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer
    protocol_version = "HTTP/1.1"

    @property
    def console(self) -> Console:
        return self.server.console  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows deliveries, not the console's requests."""

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        try:
            guard.check_host(self.headers, self.console.port)
            if split.path in STATIC_FILES:
                self._static(*STATIC_FILES[split.path])
            elif split.path == "/api/stream":
                self._stream()
            elif split.path in GETS:
                query = {k: v[0] for k, v in parse_qs(split.query, max_num_fields=20).items()}
                self._json(200, GETS[split.path](self.console, query))
            else:
                self._json(404, {"error": f"no console page or API at {split.path}"})
        except RefusedError as refused:
            self._json(refused.status, {"error": str(refused)})
        except ConsoleRequestError as error:
            self._json(400, {"error": str(error)})
        except ValueError as error:  # e.g. too many query fields
            self._json(400, {"error": str(error)})
        except Exception as error:  # an emulator or the sandbox not answering
            self._json(502, {"error": f"{type(error).__name__}: {error}"})

    def do_POST(self) -> None:
        split = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or -1)
            guard.check_state_change(self.headers, self.console.port, length)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise RefusedError(400, "send a JSON object")
            if split.path not in POSTS:
                raise RefusedError(404, f"no console API at {split.path}")
            self._json(200, POSTS[split.path](self.console, body))
        except RefusedError as refused:
            self._json(refused.status, {"error": str(refused)})
        except (ConsoleRequestError, ValueError) as error:
            self._json(400, {"error": str(error)})
        except Exception as error:
            self._json(502, {"error": f"{type(error).__name__}: {error}"})

    # -- replies -------------------------------------------------------------------------

    def _headers(self, status: int, content_type: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _json(self, status: int, document: Any) -> None:
        payload = json.dumps(document, default=str).encode()
        self._headers(status, "application/json", len(payload))
        self.wfile.write(payload)

    def _static(self, name: str, content_type: str) -> None:
        payload = (STATIC / name).read_bytes()
        self._headers(200, content_type, len(payload))
        self.wfile.write(payload)

    def _stream(self) -> None:
        """Server-sent events: the newest trace records and the counts, then whatever
        arrives; a comment line as heartbeat. Ends when the platform stops."""
        console = self.console
        if not console.streams.acquire(blocking=False):
            raise RefusedError(429, f"at most {MAX_STREAMS} console pages at once")
        self.close_connection = True
        try:
            self._headers(200, "text/event-stream", None)
            last = max(0, console.trace.last_seq - STREAM_BACKLOG)
            beat, first = time.monotonic(), True
            while not console.stopping.is_set():
                rows = console.trace.since(last, STREAM_BATCH)
                if rows or first:
                    last, first = (rows[-1]["seq"] if rows else last), False
                    self._event({"rows": rows, "counts": console.trace.counts()})
                    beat = time.monotonic()
                    console.stopping.wait(STREAM_INTERVAL_SECONDS)  # at most 2 updates/s
                elif time.monotonic() - beat > HEARTBEAT_SECONDS:
                    self.wfile.write(b": heartbeat\n\n")
                    self.wfile.flush()
                    beat = time.monotonic()
                with console.changed:
                    if console.trace.last_seq <= last:
                        console.changed.wait(1.0)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            console.streams.release()

    def _event(self, document: Any) -> None:
        self.wfile.write(b"data: " + json.dumps(document, default=str).encode() + b"\n\n")
        self.wfile.flush()
