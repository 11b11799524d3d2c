"""Example values the committed stack files carry, which must never reach the cloud.

The stack files ship with placeholders (``switchboard-prod-000000``, the
``gateway-000000000000`` URL, ``example.com`` addresses, Twilio's test account shape and
magic test number) so that the offline render, the preflight and the tests work from a
fresh clone. :func:`placeholder_problems` names every such value still in a stack and what
to put there instead; the program refuses them in a real ``pulumi up`` (not in a preview
or offline: ``infra/deploy_mode.py``) and warns about them in a preview.

A Cloud Run service's deterministic URL is ``https://<service>-<project number>.<region>
.run.app``, known before the service exists (https://cloud.google.com/run/docs/triggering/
https-request, "Deterministic URL"). Twilio's magic test numbers (``+15005550000`` to
``+15005550009``) only work with test credentials, which send nothing
(https://www.twilio.com/docs/iam/test-credentials).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pulumi

from infra.catalogue import env_policy
from infra.deploy_mode import is_offline, is_real_deploy
from infra.settings import NAMESPACE, SettingsError, StackSettings

PLACEHOLDER_PROJECT = re.compile(r"-0{6}$")
PLACEHOLDER_PROJECT_NUMBER = re.compile(r"-0{12}\.")
EXAMPLE_DOMAIN = re.compile(r"(^|\.)example\.(com|org|net)$|\.example$|\.invalid$", re.I)
"""Domains reserved for examples (RFC 2606), never a real address."""
PLACEHOLDER_TWILIO_SID = re.compile(r"^AC0{32}$")
EXAMPLE_URL = re.compile(r"^https?://([^/:?#]+)")
TWILIO_TEST_NUMBER = re.compile(r"^\+1500555000\d$")
STRICT_ENVIRONMENTS = ("staging", "prod")
"""Where Twilio's test number is refused too (dev may use test credentials)."""


def placeholder_problems(settings: StackSettings) -> list[str]:
    """One line per example value left in the stack: the key, the value, what to put."""
    return [f"  - {key} = {value!r}: {advice}" for key, value, advice in _found(settings)]


def _found(settings: StackSettings) -> Iterator[tuple[str, str, str]]:
    stack = settings.stack
    project = "<project id>" if PLACEHOLDER_PROJECT.search(settings.project) else settings.project
    if PLACEHOLDER_PROJECT.search(settings.project):
        yield (
            "gcp:project",
            settings.project,
            f"the id of this stack's GCP project (gcloud projects list; one project per "
            f"stack): pulumi config set --stack {stack} gcp:project <project id>",
        )
    for name, override in sorted(settings.agents.items()):
        url = override.public_url
        host = EXAMPLE_URL.match(url) if url else None
        if url and (
            PLACEHOLDER_PROJECT_NUMBER.search(url)
            or (host is not None and EXAMPLE_DOMAIN.search(host.group(1)))
        ):
            yield (
                f"{NAMESPACE}:agents.{name}.publicUrl",
                url,
                f"the service's URL, https://{name}-<project number>.{settings.region}.run.app "
                f"(gcloud projects describe {project} --format='value(projectNumber)')"
                ", or your own domain mapped to it",
            )
    for key, value in _strings(settings.model_dump(by_alias=True)):
        if key.startswith(("agentSettings.", "agents.")):
            continue
        url = EXAMPLE_URL.match(value)
        if url and EXAMPLE_DOMAIN.search(url.group(1)):
            yield f"{NAMESPACE}:{key}", value, "a real URL (or remove the setting)"
        elif "@" in value and EXAMPLE_DOMAIN.search(value.rsplit("@", 1)[1]):
            yield f"{NAMESPACE}:{key}", value, "a real address that someone reads"
    yield from _agent_settings(settings)


def _agent_settings(settings: StackSettings) -> Iterator[tuple[str, str, str]]:
    key = env_policy.STACK_SETTINGS_KEY
    for name, raw in sorted(settings.agent_settings.items()):
        value = str(raw)
        setting = env_policy.ALLOWED_SETTINGS.get(name)
        what = setting.description if setting else name
        if "@" in value and EXAMPLE_DOMAIN.search(value.rsplit("@", 1)[1]):
            yield f"{key}.{name}", value, f"a real value: {what}"
        elif PLACEHOLDER_TWILIO_SID.match(value):
            yield (
                f"{key}.{name}",
                value,
                f"{what}: the Account SID on the Twilio console's dashboard (AC + 32 hex)",
            )
        elif TWILIO_TEST_NUMBER.match(value) and settings.environment in STRICT_ENVIRONMENTS:
            yield (
                f"{key}.{name}",
                value,
                f"{what}: Twilio's magic test number sends nothing; use a number bought on "
                "that Twilio account (Phone Numbers > Active numbers), E.164",
            )


def _strings(document: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _strings(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(document, list | tuple):
        for index, value in enumerate(document):
            yield from _strings(value, f"{prefix}[{index}]")
    elif isinstance(document, str):
        yield prefix, document


def check_placeholders(settings: StackSettings) -> None:
    """Refuse example values in a real ``pulumi up``; warn about them in a preview."""
    problems = placeholder_problems(settings)
    if not problems:
        return
    where = f"stack {settings.stack!r} (Pulumi.{settings.stack}.yaml)"
    if is_real_deploy():
        raise SettingsError(
            f"{where} still holds example values; a real `pulumi up` refuses them (the "
            "offline render and the preflight accept them). Replace each:\n" + "\n".join(problems)
        )
    if not is_offline():
        pulumi.log.warn(
            f"{where} holds example values that `pulumi up` will refuse:\n" + "\n".join(problems)
        )
