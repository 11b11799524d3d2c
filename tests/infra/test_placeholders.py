"""No placeholder reaches the cloud: a real `pulumi up` refuses the committed example
values, naming each; a preview warns; the offline render accepts them."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from infra.offline.harness import run_under_mocks, stack_config
from infra.placeholders import placeholder_problems
from infra.program import main
from infra.settings import parse_settings

STACKS = ("dev", "staging", "prod")
PLACEHOLDER_KEYS = (
    "gcp:project",
    "switchboard:agents.gateway.publicUrl",
    "switchboard:alertEmail",
    "switchboard:agentSettings.CALENDAR_ID",
    "switchboard:agentSettings.TWILIO_ACCOUNT_SID",
)


def real_values(stack: str) -> dict[str, Any]:
    """The stack's configuration with every example value replaced by a plausible one."""
    config = stack_config(stack)
    config["gcp:project"] = f"acme-bookings-{stack}"
    config["switchboard:alertEmail"] = f"oncall-{stack}@acme-bookings.co.uk"
    agents = dict(config["switchboard:agents"])
    agents["gateway"] = dict(agents["gateway"]) | {
        "publicUrl": "https://gateway-123456789012.europe-west1.run.app"
    }
    config["switchboard:agents"] = agents
    config["switchboard:agentSettings"] = {
        "CALENDAR_ID": f"c_{stack}1234@group.calendar.google.com",
        "TWILIO_ACCOUNT_SID": "AC" + "3f" * 16,
        "TWILIO_FROM_NUMBER": "+447700900123",
    }
    return config


def up(stack: str, config: dict[str, Any], *, preview: bool = False) -> None:
    """The program as `pulumi up` (or `pulumi preview`) runs it, under mocks."""
    run_under_mocks(main, stack=stack, config=config, preview=preview, models_real_deploy=True)


@pytest.mark.parametrize("stack", STACKS)
def test_a_real_up_refuses_every_example_value_at_once(stack: str) -> None:
    with pytest.raises(pulumi.RunError) as caught:
        up(stack, stack_config(stack))
    message = str(caught.value)
    assert f"Pulumi.{stack}.yaml" in message and "still holds example values" in message
    for key in PLACEHOLDER_KEYS:
        assert f"  - {key} = " in message, key
    # Twilio's magic test sender: fine with dev's test credentials, refused beyond dev.
    number = "switchboard:agentSettings.TWILIO_FROM_NUMBER = '+15005550006'"
    assert (number in message) == (stack != "dev")
    assert "gcloud projects describe" in message  # what to put there, not only what is wrong
    assert message.endswith("docs/runbooks/deploy-failures.md (the program refuses the stack).")


@pytest.mark.slow
@pytest.mark.parametrize("stack", STACKS)
def test_a_real_up_with_real_values_goes_ahead(stack: str) -> None:
    up(stack, real_values(stack))  # the same path as above, minus the placeholders


def test_one_placeholder_left_is_named_alone() -> None:
    config = real_values("prod")
    config["switchboard:agentSettings"]["TWILIO_FROM_NUMBER"] = "+15005550006"
    with pytest.raises(pulumi.RunError) as caught:
        up("prod", config)
    listed = [line for line in str(caught.value).splitlines() if line.startswith("  - ")]
    assert len(listed) == 1 and "TWILIO_FROM_NUMBER" in listed[0]
    assert "number bought on that Twilio account" in listed[0]


@pytest.mark.slow
@pytest.mark.parametrize("stack", STACKS)
def test_a_preview_warns_and_the_offline_render_is_silent(
    stack: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Under mocks, Pulumi's log goes to Python's logging (the engine shows it in a preview)."""
    up(stack, stack_config(stack), preview=True)
    assert "that `pulumi up` will refuse" in caplog.text
    assert "  - gcp:project = " in caplog.text
    caplog.clear()
    run_under_mocks(main, stack=stack, config=stack_config(stack))  # offline
    assert "will refuse" not in caplog.text


def test_example_urls_anywhere_in_the_settings_are_found() -> None:
    config = real_values("prod") | {
        "switchboard:monitoring": {"runbookBaseUrl": "https://docs.example.com/runbooks"}
    }
    problems = placeholder_problems(parse_settings("prod", config))
    assert len(problems) == 1 and "switchboard:monitoring.runbookBaseUrl" in problems[0]


def test_an_example_domain_as_public_url_is_found() -> None:
    config = real_values("staging")
    config["switchboard:agents"]["gateway"]["publicUrl"] = "https://hooks.example.com"
    problems = placeholder_problems(parse_settings("staging", config))
    assert len(problems) == 1 and "switchboard:agents.gateway.publicUrl" in problems[0]


def test_real_values_are_not_mistaken_for_examples() -> None:
    for stack in STACKS:
        assert placeholder_problems(parse_settings(stack, real_values(stack))) == []
