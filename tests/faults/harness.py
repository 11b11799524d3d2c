"""The real fleet on the local platform, attacked: start/stop, injection and accounting.

:class:`Fleet` runs ``python -m localdev up`` with the real catalogue and agents on free
ports and a private state dir; :class:`Row` is one line of the results table; the
accounting helpers read side effects from the sandbox's request record and objects and
from Firestore.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import uuid
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests

from infra.catalogue import FUNCTIONS_DIR, load_catalogue
from infra.catalogue.filter_language import parse_filter
from localdev.emulators import ManagedProcess
from localdev.fake_secrets import api_key
from localdev.faults import running
from localdev.state import platform_pids
from localdev.trace import TraceEvent, read_trace
from tests.localdev.harness import wait_for

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")
BURST_ENV = "SWITCHBOARD_FAULTS_BURST"
REPORT_ENV = "SWITCHBOARD_FAULTS_REPORT"
FULL_ENV = "SWITCHBOARD_FAULTS_FULL"
DEFAULT_BURST = 1000


def full() -> bool:
    """The full version (``make faults``): bigger numbers and longer storms."""
    return os.environ.get(FULL_ENV, "") not in ("", "0")


def burst_size() -> int:
    return int(os.environ.get(BURST_ENV, "10000" if full() else str(DEFAULT_BURST)))


def report_path() -> Path:
    return Path(os.environ.get(REPORT_ENV, str(REPO / ".local" / "faults-report.md")))


# -- the results table -------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    published: int = 0
    processed_once: int = 0
    lost: int = 0
    duplicated: int = 0
    dead_lettered: int = 0
    unexplained: int = 0
    redriven: str = "-"
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.unexplained == 0

    def line(self) -> str:
        cells = [
            self.scenario,
            str(self.published),
            str(self.processed_once),
            str(self.lost),
            str(self.duplicated),
            f"{self.dead_lettered} ({self.dead_lettered - self.unexplained} explained)",
            self.redriven,
            f"{self.seconds:.0f}s",
            "; ".join(self.notes),
        ]
        return "| " + " | ".join(cells) + " |"


HEADER = (
    "| scenario | published | processed once | lost | duplicated side effects "
    "| dead-lettered | redrive | wall | notes |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def render(rows: Iterable[Row], title: str) -> str:
    return "\n".join([f"## {title}", "", HEADER, *(row.line() for row in rows), ""])


# -- the fleet ---------------------------------------------------------------------------


class Fleet:
    """``python -m localdev up`` (real catalogue, free ports, private state dir)."""

    def __init__(self, root: Path, project: str, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.project = project
        self.state_dir = root / ".local"
        self.state_file = self.state_dir / "platform.json"
        self.output = root / "platform-output.txt"
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.state: dict[str, Any] = {}
        self.extra: list[ManagedProcess] = []  # processes a fault started (a new Firestore)
        self.http = requests.Session()
        self.catalogue = load_catalogue(FUNCTIONS_DIR)
        self._db: Any = None
        self._pubsub: tuple[Any, Any] | None = None

    def start(self, timeout: float = 120) -> None:
        with self.output.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "localdev",
                    "up",
                    "--state-dir",
                    str(self.state_dir),
                    "--base-port",
                    "0",
                    "--project",
                    self.project,
                ],
                cwd=REPO,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"platform exited:\n{self.output.read_text()[-3000:]}")
            return self.state_file.is_file()

        wait_for(ready, timeout, "the fleet to be ready", 0.2)
        self.refresh()
        os.environ["PUBSUB_EMULATOR_HOST"] = self.state["pubsub"]["emulator_host"]
        os.environ["FIRESTORE_EMULATOR_HOST"] = self.state["firestore"]["emulator_host"]
        os.environ["GOOGLE_CLOUD_PROJECT"] = self.project

    def refresh(self) -> dict[str, Any]:
        self.state = json.loads(self.state_file.read_text())
        return self.state

    def pids(self) -> list[int]:
        return platform_pids(self.state)

    def stop(self) -> None:
        """SIGTERM the platform (it stops everything it started), then anything left."""
        with contextlib.suppress(OSError, ValueError):
            self.refresh()
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        for managed in self.extra:
            managed.stop()
        for pid in self.pids() if self.state else []:
            if running(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)

    # -- clients -------------------------------------------------------------------------

    def db(self) -> Any:
        if self._db is None:
            from google.cloud import firestore

            self._db = firestore.Client(project=self.project)
        return self._db

    def pubsub(self) -> tuple[Any, Any]:
        if self._pubsub is None:
            from google.cloud import pubsub_v1

            self._pubsub = (pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient())
        return self._pubsub

    def publish_many(self, topic: str, messages: list[tuple[bytes, dict[str, str]]]) -> None:
        publisher, _ = self.pubsub()
        path = f"projects/{self.project}/topics/{topic}"
        futures = [publisher.publish(path, data, **attributes) for data, attributes in messages]
        for future in futures:
            future.result(timeout=120)

    def url(self, agent: str) -> str:
        return str(self.state["agents"][agent]["url"])

    def secret(self, name: str) -> str:
        return str(self.state["secrets"][name]["value"])

    def sandbox(self, method: str, path: str, document: Any = None) -> Any:
        response = self.http.request(
            method, self.state["sandbox"]["url"] + path, json=document, timeout=60
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def fault(self, **fault: Any) -> None:
        self.sandbox("POST", "/_sandbox/faults", fault)

    def clear_faults(self) -> None:
        self.sandbox("DELETE", "/_sandbox/faults")

    def trace(self) -> list[TraceEvent]:
        return read_trace(Path(self.state["trace"]))

    # -- dead letters --------------------------------------------------------------------

    def dead_letter_subscriptions(self) -> list[str]:
        return [c.dead_letter_subscription_id for c in self.catalogue.consumers()]

    def dead_letters(self, subscription_id: str, ack: bool = False) -> list[dict[str, Any]]:
        """Every message on a dead-letter subscription, released again (or acked)."""
        from google.api_core import exceptions

        _, subscriber = self.pubsub()
        warnings.filterwarnings("ignore", message="The return_immediately flag is deprecated")
        path = f"projects/{self.project}/subscriptions/{subscription_id}"
        found: dict[str, dict[str, Any]] = {}
        ack_ids: list[str] = []
        for _ in range(200):
            try:
                response = subscriber.pull(
                    request={
                        "subscription": path,
                        "max_messages": 500,
                        "return_immediately": True,  # a bounded peek, as tools.deadletters
                    },
                    timeout=10,
                    retry=None,
                )
            except exceptions.DeadlineExceeded:
                break
            fresh = [r for r in response.received_messages if r.message.message_id not in found]
            if not fresh:
                break
            for received in fresh:
                ack_ids.append(received.ack_id)
                found[received.message.message_id] = {
                    "subscription": subscription_id,
                    "message_id": received.message.message_id,
                    "data": bytes(received.message.data),
                    "attributes": dict(received.message.attributes),
                }
        for start in range(0, len(ack_ids), 500):
            batch = ack_ids[start : start + 500]
            if ack:
                subscriber.acknowledge(request={"subscription": path, "ack_ids": batch})
            else:
                subscriber.modify_ack_deadline(
                    request={"subscription": path, "ack_ids": batch, "ack_deadline_seconds": 0}
                )
        return list(found.values())

    def all_dead_letters(self, ack: bool = False) -> list[dict[str, Any]]:
        letters: list[dict[str, Any]] = []
        for subscription_id in self.dead_letter_subscriptions():
            letters += self.dead_letters(subscription_id, ack=ack)
        return letters

    def matching_subscriptions(self, topic: str, attributes: dict[str, str]) -> list[str]:
        """The agent subscriptions of ``topic`` whose deployed filter admits ``attributes``."""
        return [
            c.subscription_id
            for c in self.catalogue.consumers()
            if c.topic == topic and parse_filter(c.effective_filter).matches(attributes)
        ]

    # -- Firestore -----------------------------------------------------------------------

    def claims(self, agent: str, event_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """``processed_events`` documents of ``agent`` for ``event_ids`` (missing = absent)."""
        db = self.db()
        refs = [db.collection("processed_events").document(f"{agent}:{e}") for e in event_ids]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(refs), 300):
            for snapshot in db.get_all(refs[start : start + 300]):
                if snapshot.exists:
                    found[snapshot.id.split(":", 1)[1]] = snapshot.to_dict() or {}
        return found

    def ledger_by_correlation(self, correlation_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Ledger entries grouped by correlation id (only those asked for)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for snapshot in self.db().collection("ledger").stream():
            entry = snapshot.to_dict() or {}
            if entry.get("correlation_id") in correlation_ids:
                grouped.setdefault(entry["correlation_id"], []).append(
                    {"event_id": snapshot.id, **entry}
                )
        return grouped

    def ledger_ids(self, event_ids: Iterable[str]) -> set[str]:
        db = self.db()
        refs = [db.collection("ledger").document(e) for e in event_ids]
        found: set[str] = set()
        for start in range(0, len(refs), 300):
            found |= {s.id for s in db.get_all(refs[start : start + 300]) if s.exists}
        return found

    # -- the sandbox's record -------------------------------------------------------------

    def requests(self, service: str) -> list[dict[str, Any]]:
        return list(self.sandbox("GET", f"/_sandbox/requests?service={service}")["requests"])

    def objects(self) -> dict[str, Any]:
        return dict(self.sandbox("GET", "/_sandbox/state")["objects"])


# -- bookings: publish and account ---------------------------------------------------------

PHONE = "+447700900123"
REF = re.compile(r"Ref ([0-9A-F]{8})")


@dataclass
class Booking:
    name: str
    booking_id: str = ""
    event_id: str = ""  # booking.requested = the correlation id


def letters(text: str) -> str:
    """``text`` with each digit spelled as a letter (``0`` -> ``a``): a name of letters."""
    return text.translate(str.maketrans("0123456789", "abcdefghij")).title()


def slot(index: int, offset_days: int) -> tuple[str, str]:
    """A distinct 30-minute slot per index, far enough ahead for no reminder (and inside
    the booking API's horizon)."""
    import datetime as dt

    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    base = today + dt.timedelta(days=2 + offset_days)
    start = base + dt.timedelta(minutes=30 * index)
    return start.isoformat(), (start + dt.timedelta(minutes=30)).isoformat()


def request_bookings(fleet: Fleet, count: int, tag: str, offset_days: int) -> list[Booking]:
    """POST /bookings to the gateway ``count`` times (distinct slots and customers)."""
    bookings = []
    key = api_key(fleet.secret("booking-api-keys"))
    for index in range(count):
        # Names are letters only (the booking API refuses digits in a name), and each
        # customer has a phone of their own (the notifier limits SMS per phone).
        name = f"{letters(tag)} {letters(str(index))} {letters(uuid.uuid4().hex[:4])}"
        start, end = slot(index, offset_days)
        body = {
            "customer": {"name": name, "phone": f"+4477009{uuid.uuid4().int % 100_000:05d}"},
            "service": "haircut",
            "starts_at": start,
            "ends_at": end,
            "amount_minor": 2500,
            "currency": "gbp",
        }
        response = fleet.http.post(
            fleet.url("gateway") + "/bookings",
            json=body,
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        answer = response.json()
        bookings.append(Booking(name, answer["booking_id"], answer["event_id"]))
    return bookings


BOOKING_TYPES = ("booking.requested", "booking.confirmed", "payment.link_created")
LEDGER_TYPES = (*BOOKING_TYPES, "notification.requested")


@dataclass
class BookingEffects:
    """What happened to each booking, side effect by side effect."""

    calendar: Counter[str]  # successful event creates per booking id
    links: Counter[str]  # Stripe payment links per booking id
    sms: Counter[str]  # payment-link SMS per customer name
    refs: Counter[str]  # SMS per reference (one notification = one reference)
    ledger: dict[str, list[dict[str, Any]]]

    def complete(self, booking: Booking) -> bool:
        types = Counter(e["type"] for e in self.ledger.get(booking.event_id, []))
        return (
            self.links[booking.booking_id] >= 1
            and self.sms[booking.name] >= 1
            and all(types[t] >= 1 for t in LEDGER_TYPES)
        )

    def missing(self, booking: Booking) -> list[str]:
        """What ``booking`` still lacks (empty when complete)."""
        types = Counter(e["type"] for e in self.ledger.get(booking.event_id, []))
        found = [] if self.links[booking.booking_id] else ["payment link"]
        found += [] if self.sms[booking.name] else ["SMS"]
        return found + [f"ledger {t}" for t in LEDGER_TYPES if not types[t]]

    def duplicated(self, booking: Booking) -> list[str]:
        found = []
        if self.calendar[booking.booking_id] > 1:
            found.append(f"{self.calendar[booking.booking_id]} calendar events")
        if self.links[booking.booking_id] > 1:
            found.append(f"{self.links[booking.booking_id]} payment links")
        if self.sms[booking.name] > 1:
            found.append(f"{self.sms[booking.name]} SMS")
        types = Counter(e["type"] for e in self.ledger.get(booking.event_id, []))
        found += [f"{n} ledger {t}" for t, n in types.items() if n > 1]
        return found


def booking_effects(fleet: Fleet, bookings: list[Booking]) -> BookingEffects:
    ids = {b.booking_id for b in bookings}
    names = {b.name for b in bookings}
    objects = fleet.objects()
    links = Counter(
        link.get("metadata", {}).get("booking_id")
        for link in objects.get("stripe.payment_links", {}).values()
    )
    calendar: Counter[str] = Counter()
    for request in fleet.requests("calendar"):
        created = request.get("status") == 200 and request["method"] == "POST"
        if created and request["path"].endswith("/events"):
            with contextlib.suppress(ValueError):
                body = json.loads(request["body"])
                booking_id = (body.get("extendedProperties", {}).get("private") or {}).get(
                    "booking_id"
                ) or _booking_in(body, ids)
                calendar[booking_id or body.get("id", "?")] += 1
    sms: Counter[str] = Counter()
    refs: Counter[str] = Counter()
    for message in objects.get("twilio.messages", {}).values():
        text = message.get("body", "")
        for ref in REF.findall(text):
            refs[ref] += 1
        for name in names:
            if f"Hi {name}," in text and "Pay here" in text:
                sms[name] += 1
    ledger = fleet.ledger_by_correlation({b.event_id for b in bookings})
    return BookingEffects(
        Counter({k: v for k, v in calendar.items() if k in ids}),
        Counter({k: v for k, v in links.items() if k in ids}),
        sms,
        refs,
        ledger,
    )


def derive(event_id: str, purpose: str) -> str:
    """The runtime's follow-up event id (``uuid5(cause, purpose)``)."""
    shared = str(REPO / "functions" / "shared")
    if shared not in sys.path:
        sys.path.insert(0, shared)
    from switchboard_runtime.publisher import derive_event_id

    return derive_event_id(event_id, purpose)


def confirmed_id(booking: Booking) -> str:
    return derive(booking.event_id, "booking.confirmed")


def handled(fleet: Fleet, bookings: list[Booking]) -> int:
    """Bookings whose scheduler, billing and notifier claims are all ``done``."""
    confirmed = {b.event_id: confirmed_id(b) for b in bookings}
    texted = {b.event_id: derive(confirmed[b.event_id], "payment-link-sms") for b in bookings}
    scheduler = fleet.claims("scheduler", confirmed.keys())
    billing = fleet.claims("billing", confirmed.values())
    notifier = fleet.claims("notifier", texted.values())
    return sum(
        1
        for b in bookings
        if scheduler.get(b.event_id, {}).get("state") == "done"
        and billing.get(confirmed[b.event_id], {}).get("state") == "done"
        and notifier.get(texted[b.event_id], {}).get("state") == "done"
    )


def _booking_in(body: dict[str, Any], ids: set[str]) -> str | None:
    text = json.dumps(body)
    return next((booking_id for booking_id in ids if booking_id in text), None)
