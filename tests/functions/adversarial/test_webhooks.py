"""Findings 4 and 5: a permanent problem is never answered 503 (and a transient one still
is), and Twilio signatures are checked against the configured public URL only."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.functions.adversarial.gateway import PUBLIC, fresh_instance, gateway_harness
from tests.functions.harness import SECRETS, Harness, agent_app, api_headers, stripe_signature

pytestmark = pytest.mark.emulator
PROJECT = "demo-adversarial-webhooks"
SID = "SM" + "a" * 32


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return gateway_harness(emulators, sandbox_server, PROJECT)


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    fresh_instance()
    return harness.activate(monkeypatch)


@pytest.fixture
def client() -> Any:
    return agent_app("gateway").test_client()


def session(**changes: Any) -> dict[str, Any]:
    return {
        "id": "cs_test_adv",
        "object": "checkout.session",
        "payment_status": "paid",
        "amount_total": 2500,
        "currency": "gbp",
        "payment_intent": "pi_test_adv",
        "metadata": {"booking_id": "bk-0123456789abcdef0123"},
        **changes,
    }


def event(obj: Any, event_type: str = "checkout.session.completed", **changes: Any) -> bytes:
    document = {
        "id": "evt_adv_1",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
        **changes,
    }
    return json.dumps(document).encode()


def post_signed(client: Any, payload: bytes) -> Any:
    signature = stripe_signature(payload, SECRETS["STRIPE_WEBHOOK_SECRET"])
    return client.post("/stripe", data=payload, headers={"Stripe-Signature": signature})


WRONG_SHAPES = {
    "amount-string": event(session(amount_total="2500")),
    "amount-bool": event(session(amount_total=True)),
    "amount-float": event(session(amount_total=25.5)),
    "amount-huge": event(session(amount_total=10**20)),
    "currency-number": event(session(currency=826)),
    "id-object": event(session(id={"nested": True})),
    "intent-list": event(session(payment_intent=["pi_1"])),
    "object-list": event([1, 2, 3]),
    "type-number": event(session(), event_type=7),  # type: ignore[arg-type]
    "data-string": json.dumps({"id": "evt_adv_1", "type": "x", "data": "boom"}).encode(),
    "event-id-slash": event(session(), id="evt/../../x"),
    "intent-amount-missing": event({"id": "pi_1", "currency": "gbp"}, "payment_intent.succeeded"),
}


@pytest.mark.parametrize("payload", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_a_signed_stripe_event_of_the_wrong_shape_is_400_without_a_traceback(
    platform: Harness, client: Any, payload: bytes, capsys: Any
) -> None:
    response = post_signed(client, payload)
    assert response.status_code == 400, response.data
    logged = capsys.readouterr().out
    assert '"severity": "ERROR"' not in logged and "Traceback" not in logged
    assert platform.pull("payments") == []


DEEP = b"[" * 30_000 + b"]" * 30_000


def test_a_30000_deep_json_array_is_400_on_every_json_path(
    platform: Harness, client: Any, capsys: Any
) -> None:
    assert post_signed(client, DEEP).status_code == 400
    assert client.post("/bookings", data=DEEP, headers=api_headers()).status_code == 413
    within_cap = b"[" * 7_000 + b"]" * 7_000
    assert client.post("/bookings", data=within_cap, headers=api_headers()).status_code == 400
    deep_object = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    assert post_signed(client, deep_object).status_code == 400
    logged = capsys.readouterr().out
    assert '"severity": "ERROR"' not in logged and "Traceback" not in logged
    assert platform.pull("payments") == [] and platform.pull("bookings") == []


def test_non_utf8_and_non_json_bodies_are_400(platform: Harness, client: Any) -> None:
    assert post_signed(client, b"\xff\xfe{}").status_code == 400
    assert post_signed(client, b"{not json").status_code == 400
    assert client.post("/bookings", data=b"\xff", headers=api_headers()).status_code == 400


def sign_twilio(form: dict[str, str], url: str = f"{PUBLIC}/twilio", **kwargs: Any) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(SECRETS["TWILIO_AUTH_TOKEN"]).compute_signature(url, form, **kwargs)


def sms(**changes: str | None) -> dict[str, str]:
    form = {"MessageSid": SID, "From": "+447700900006", "To": "+15005550006", "Body": "STOP"}
    form.update(changes)  # type: ignore[arg-type]
    return {k: v for k, v in form.items() if v is not None}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (sms(From=None), "From"),
        (sms(Body="b" * 2000), "Body"),
        (sms(MessageSid=None), "MessageSid"),
        (sms(MessageSid="SM1/../x"), "MessageSid"),
        (sms(From="+44 770 <script>"), "From"),
    ],
    ids=["no-from", "2000-char-body", "no-sid", "bad-sid", "bad-from"],
)
def test_a_signed_but_invalid_twilio_message_is_400_without_a_traceback(
    platform: Harness, client: Any, form: dict[str, str], field: str, capsys: Any
) -> None:
    response = client.post("/twilio", data=form, headers={"X-Twilio-Signature": sign_twilio(form)})
    assert response.status_code == 400, response.data
    assert response.json["errors"][0]["field"] == field
    logged = capsys.readouterr().out
    assert '"severity": "ERROR"' not in logged and "Traceback" not in logged
    assert platform.pull("inbound") == []


def test_too_many_form_fields_are_400(platform: Harness, client: Any) -> None:
    form = {**sms(), **{f"F{i}": "x" for i in range(100)}}
    response = client.post("/twilio", data=form, headers={"X-Twilio-Signature": sign_twilio(form)})
    assert response.status_code == 400
    assert platform.pull("inbound") == []


def test_transient_problems_are_still_503(
    platform: Harness, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")  # nothing listens: unavailable
    from switchboard_runtime import clients, publisher

    clients.reset()
    monkeypatch.setattr(publisher, "PUBLISH_TIMEOUT_SECONDS", 2.0)
    try:
        response = post_signed(client, event(session()))
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        form = sms()
        twilio = client.post(
            "/twilio", data=form, headers={"X-Twilio-Signature": sign_twilio(form)}
        )
        assert twilio.status_code == 503
    finally:
        clients.reset()


# -- finding 5: the URL Twilio signed is ours, not the client's ---------------------------


@pytest.mark.parametrize(
    "spoof",
    [
        {"Host": "evil.example"},
        {"Host": "evil.example", "X-Forwarded-Proto": "https"},
        {"X-Forwarded-Proto": "https,http", "X-Forwarded-Host": "evil.example"},
    ],
    ids=["host", "host-and-proto", "forwarded-host"],
)
def test_a_signature_for_the_clients_own_host_is_refused(
    platform: Harness, client: Any, spoof: dict[str, str]
) -> None:
    form = sms()
    signature = sign_twilio(form, "https://evil.example/twilio")
    response = client.post("/twilio", data=form, headers={"X-Twilio-Signature": signature, **spoof})
    assert response.status_code == 403
    assert platform.pull("inbound") == []


def test_a_signature_for_the_configured_url_passes_whatever_the_host(
    platform: Harness, client: Any
) -> None:
    form = sms()
    response = client.post(
        "/twilio",
        data=form,
        headers={"X-Twilio-Signature": sign_twilio(form), "Host": "10.0.0.7:8080"},
    )
    assert response.status_code == 200, response.data
    (message,) = platform.pull("inbound")
    assert message.json()["message_sid"] == SID


def test_twilio_hmac_sha256_signatures_are_accepted(platform: Harness, client: Any) -> None:
    from twilio.request_validator import HMAC_SHA256, SIGNATURE_SETTINGS_HEADER

    form = sms()
    signature = sign_twilio(form, algorithm=HMAC_SHA256)
    headers = {
        "X-Twilio-Signature": signature,
        SIGNATURE_SETTINGS_HEADER: "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
    }
    assert client.post("/twilio", data=form, headers=headers).status_code == 200
    tampered = {**form, "Body": "something else"}
    assert client.post("/twilio", data=tampered, headers=headers).status_code == 403
    wrong_scheme = {**headers, SIGNATURE_SETTINGS_HEADER: "algorithm=HMAC_MD5"}
    assert client.post("/twilio", data=form, headers=wrong_scheme).status_code == 403
    assert len(platform.pull("inbound")) == 1


def test_without_a_configured_public_url_nothing_is_accepted(
    platform: Harness, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWITCHBOARD_PUBLIC_URL")
    form = sms()
    local = sign_twilio(form, "http://localhost/twilio")
    response = client.post("/twilio", data=form, headers={"X-Twilio-Signature": local})
    assert response.status_code == 503
    assert platform.pull("inbound") == []


def test_every_stack_gives_the_public_agent_its_url() -> None:
    from infra.agent.plan import plan_agent
    from infra.catalogue import load_catalogue
    from tests.infra.test_settings import settings_for

    catalogue = load_catalogue()
    public = [name for name, agent in catalogue.agents.items() if agent.is_public]
    assert public
    for stack in ("dev", "staging", "prod"):
        for name in public:
            url = plan_agent(catalogue, settings_for(stack), name).env["SWITCHBOARD_PUBLIC_URL"]
            assert url.startswith("https://") and not url.endswith("/")
