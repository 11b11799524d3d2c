"""The Workload Identity provider's condition: this repository, its deploy jobs on the
deploy branch, and (only with a previewer) its pull-request jobs."""

from __future__ import annotations

import pytest

from bootstrap.switchboard_bootstrap.identity import GitHubFederationArgs, attribute_condition

REPO = "acme/switchboard"


def _args(**changes: object) -> GitHubFederationArgs:
    base: dict[str, object] = {
        "project": "acme-ops-123456",
        "pool_id": "github",
        "provider_id": "github",
        "repository": REPO,
        "environments": ["dev", "staging", "production"],
        "deploy_branch": "main",
        "repository_id": None,
        "allow_pull_requests": True,
        "iam_api": None,
    }
    return GitHubFederationArgs(**(base | changes))  # type: ignore[arg-type]


def test_condition_pins_repository_environments_and_branch() -> None:
    condition = attribute_condition(_args())
    pin, _, jobs = condition.partition(" && ")
    assert pin == f"assertion.repository == '{REPO}'"
    for environment in ("dev", "staging", "production"):
        assert f"'repo:{REPO}:environment:{environment}'" in jobs
    assert "assertion.ref == 'refs/heads/main'" in jobs
    assert f"assertion.sub == 'repo:{REPO}:pull_request'" in jobs
    assert jobs.startswith("(") and jobs.endswith(")")  # the || cannot escape the pin


def test_without_a_previewer_pull_requests_are_not_admitted() -> None:
    condition = attribute_condition(_args(allow_pull_requests=False))
    assert "pull_request" not in condition
    assert condition.startswith(f"assertion.repository == '{REPO}' && (assertion.sub in [")


def test_the_repository_id_is_pinned_when_given() -> None:
    condition = attribute_condition(_args(repository_id="123456"))
    assert condition.startswith(
        f"assertion.repository == '{REPO}' && assertion.repository_id == '123456' && ("
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"repository": "no-owner"},
        {"repository": "o/r' || true || 'x"},
        {"environments": []},
        {"environments": ["dev' || true || '"]},
        {"deploy_branch": "main'"},
    ],
)
def test_values_that_could_break_out_of_the_expression_are_refused(
    changes: dict[str, object],
) -> None:
    with pytest.raises(ValueError):
        _args(**changes)
