"""localdev.publish: what is checked before anything is published, and the attributes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localdev.publish import MAX_DATA_BYTES, PublishError, event_message, parse_data, publish_event
from localdev.state import NoPlatformError

SMS = {
    "message_sid": "SM0123456789abcdef0123456789abcdef",
    "from_number": "+447700900001",
    "to_number": "+15005550006",
    "body": "hi",
}


def test_valid_data_gets_the_contract_attributes() -> None:
    body, attributes = event_message(
        "inbound", "sms.received", SMS, event_id="e-1", correlation_id="c-1", causation_id="p-1"
    )
    assert json.loads(body) == SMS
    assert attributes == {
        "type": "sms.received",
        "event_id": "e-1",
        "source": "localdev",
        "correlation_id": "c-1",
        "causation_id": "p-1",
        "schema_version": "1",
    }


def test_invalid_data_names_the_field() -> None:
    with pytest.raises(PublishError, match=r"from_number: Field required"):
        event_message(
            "inbound",
            "sms.received",
            {k: v for k, v in SMS.items() if k != "from_number"},
            event_id="e",
            correlation_id="e",
        )
    with pytest.raises(PublishError, match=r"colour: Extra inputs are not permitted"):
        event_message(
            "inbound", "sms.received", {**SMS, "colour": 1}, event_id="e", correlation_id="e"
        )


def test_unknown_type_and_wrong_topic_are_refused() -> None:
    with pytest.raises(
        PublishError, match=r"unknown event type 'sms.sent'; known types: .*sms.received"
    ):
        event_message("inbound", "sms.sent", SMS, event_id="e", correlation_id="e")
    with pytest.raises(
        PublishError, match=r"sms.received belongs on topic 'inbound', not 'bookings'"
    ):
        event_message("bookings", "sms.received", SMS, event_id="e", correlation_id="e")


def test_ids_are_bounded() -> None:
    with pytest.raises(PublishError, match="correlation_id must be at most 128"):
        event_message("inbound", "sms.received", SMS, event_id="e", correlation_id="c" * 129)
    with pytest.raises(PublishError, match="event_id must be at most"):
        event_message("inbound", "sms.received", SMS, event_id="a\nb", correlation_id="c")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "data is not JSON: Expecting property name enclosed in double quotes at line 1"),
        ("[1]", "data must be a JSON object, got list"),
        ('"x' + "y" * MAX_DATA_BYTES + '"', "data is larger than"),
    ],
)
def test_data_text_is_checked(text: str, message: str) -> None:
    with pytest.raises(PublishError, match=message):
        parse_data(text)


def test_no_platform_is_reported_after_validation(tmp_path: Path) -> None:
    with pytest.raises(PublishError):
        publish_event("inbound", "sms.received", {}, state_file=tmp_path / "platform.json")
    with pytest.raises(NoPlatformError, match="make dev"):
        publish_event("inbound", "sms.received", SMS, state_file=tmp_path / "platform.json")
