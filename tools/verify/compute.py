"""Functions and services are ready: Cloud Functions v2 ``state == ACTIVE``; Cloud Run v2
``terminalCondition.state == CONDITION_SUCCEEDED`` and not reconciling.

Reads the REST APIs with google-auth's AuthorizedSession (already a dependency of the
google-cloud clients), so no extra client library is needed.
"""

from __future__ import annotations

from typing import Any, Protocol

from infra.catalogue import Catalogue
from tools.verify.checks import Finding

FUNCTIONS_API = "https://cloudfunctions.googleapis.com/v2"
RUN_API = "https://run.googleapis.com/v2"


class ComputeReader(Protocol):
    def function(self, project: str, region: str, name: str) -> dict[str, Any] | None: ...
    def service(self, project: str, region: str, name: str) -> dict[str, Any] | None: ...


class RestComputeReader:
    """Live reader (Application Default Credentials)."""

    def __init__(self) -> None:
        import google.auth
        from google.auth.transport.requests import AuthorizedSession

        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        self.session = AuthorizedSession(credentials)

    def _get(self, url: str) -> dict[str, Any] | None:
        response = self.session.get(url, timeout=30)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return dict(response.json())

    def function(self, project: str, region: str, name: str) -> dict[str, Any] | None:
        return self._get(f"{FUNCTIONS_API}/projects/{project}/locations/{region}/functions/{name}")

    def service(self, project: str, region: str, name: str) -> dict[str, Any] | None:
        return self._get(f"{RUN_API}/projects/{project}/locations/{region}/services/{name}")


def readiness(platform: str, resource: dict[str, Any] | None) -> str | None:
    """None when ready, else why not (pure, for tests)."""
    if resource is None:
        return "missing"
    if platform == "function":
        state = resource.get("state")
        return None if state == "ACTIVE" else f"state {state}"
    condition = resource.get("terminalCondition") or {}
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
        findings.append(Finding(f"{agent.platform} ready", name, problem is None, problem or ""))
    return findings
