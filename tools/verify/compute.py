"""Functions and services are ready: Cloud Functions v2 ``state == ACTIVE``; Cloud Run v2
``terminal_condition.state == CONDITION_SUCCEEDED`` and not ``reconciling``.

Read with the official clients, ``google-cloud-functions`` (``functions_v2``,
FunctionService.GetFunction) and ``google-cloud-run`` (``run_v2``, Services.GetService),
over their REST transport (as ``infra/build`` uses the build clients), with Application
Default Credentials; a test points both at a local fake with ``api_endpoint``. Field and
enum names are the APIs' own: Function.state is ``ACTIVE`` once "successfully deployed
and serving" (else FAILED, DEPLOYING, DELETING, UNKNOWN; Cloud Functions v2 API reference,
Function.State); Service.terminal_condition.state is ``CONDITION_SUCCEEDED`` when
"reconciliation completed successfully" (PENDING and RECONCILING are transient, FAILED
terminal; Cloud Run Admin v2 API reference, Condition.State and Service.terminalCondition,
with Service.reconciling true while a change rolls out).
"""

from __future__ import annotations

from typing import Any, Protocol

from infra.catalogue import Catalogue
from library.findings import Finding
from tools.verify.checks import result


class ComputeReader(Protocol):
    def function(self, project: str, region: str, name: str) -> dict[str, Any] | None: ...
    def service(self, project: str, region: str, name: str) -> dict[str, Any] | None: ...


def _plain(message: Any) -> dict[str, Any]:
    """A proto-plus message as a dict: field names as in the proto, enums by name."""
    return dict(
        type(message).to_dict(
            message, use_integers_for_enums=False, preserving_proto_field_name=True
        )
    )


class ClientComputeReader:
    """Live reader: the official clients, created on first use. ``endpoint`` (tests only)
    sends both to ``http://127.0.0.1:PORT`` without credentials."""

    def __init__(self, endpoint: str | None = None) -> None:
        self._endpoint = endpoint
        self._functions: Any = None
        self._services: Any = None

    def _options(self) -> dict[str, Any]:
        if self._endpoint is None:
            return {"transport": "rest"}
        from google.auth.credentials import AnonymousCredentials

        return {
            "transport": "rest",
            "credentials": AnonymousCredentials(),
            "client_options": {"api_endpoint": self._endpoint},
        }

    def function(self, project: str, region: str, name: str) -> dict[str, Any] | None:
        from google.api_core.exceptions import NotFound
        from google.cloud import functions_v2

        if self._functions is None:
            self._functions = functions_v2.FunctionServiceClient(**self._options())
        path = self._functions.function_path(project, region, name)
        try:
            return _plain(self._functions.get_function(request={"name": path}))
        except NotFound:
            return None

    def service(self, project: str, region: str, name: str) -> dict[str, Any] | None:
        from google.api_core.exceptions import NotFound
        from google.cloud import run_v2

        if self._services is None:
            self._services = run_v2.ServicesClient(**self._options())
        path = self._services.service_path(project, region, name)
        try:
            return _plain(self._services.get_service(request={"name": path}))
        except NotFound:
            return None


def readiness(platform: str, resource: dict[str, Any] | None) -> str | None:
    """None when ready, else why not (pure, for tests)."""
    if resource is None:
        return "missing"
    if platform == "function":
        state = resource.get("state")
        return None if state == "ACTIVE" else f"state {state}"
    condition = resource.get("terminal_condition") or {}
    if resource.get("reconciling"):
        return "still reconciling"
    if condition.get("state") != "CONDITION_SUCCEEDED":
        return f"terminal condition {condition.get('state')}: {condition.get('message', '')}"
    return None


def check_compute(
    catalogue: Catalogue, project: str, region: str, reader: ComputeReader
) -> list[Finding]:
    findings = []
    for name, agent in catalogue.agents.items():
        if agent.platform == "function":
            problem = readiness("function", reader.function(project, region, name))
        else:
            problem = readiness("run", reader.service(project, region, name))
        findings.append(result(f"{agent.platform} ready", name, problem is None, problem or ""))
    return findings
