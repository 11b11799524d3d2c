"""The deployer's roles follow what the main program declares (rendered/<stack>.json)."""

from __future__ import annotations

import json
import re

import pytest

from bootstrap.switchboard_bootstrap.roles import (
    OUTSIDE_THE_PROJECT,
    PREVIEWER_ROLES,
    PRIMITIVE_ROLES,
    RESOURCE_ROLES,
    ROLE_REASONS,
    deployer_roles,
)
from infra.offline.harness import REPO_ROOT

RENDERS = sorted((REPO_ROOT / "rendered").glob("*.json"))


def rendered_types() -> set[str]:
    types: set[str] = set()
    for path in RENDERS:
        types |= {
            t
            for t in json.loads(path.read_text())["summary"]
            if t.startswith("gcp:") or t == "pulumi-python:dynamic:Resource"  # the image build
        }
    return types


def test_every_type_the_program_declares_has_its_roles() -> None:
    assert RENDERS, "no renders: run python -m tools.render all"
    unknown = rendered_types() - set(RESOURCE_ROLES) - set(OUTSIDE_THE_PROJECT)
    assert not unknown, f"add these to bootstrap/switchboard_bootstrap/roles.py: {unknown}"
    assert set(deployer_roles(rendered_types())) <= set(deployer_roles())


def test_a_new_resource_type_is_refused_until_mapped() -> None:
    with pytest.raises(KeyError, match="gcp:new/thing:Thing"):
        deployer_roles({"gcp:new/thing:Thing", *rendered_types()})


def test_every_role_has_a_reason_and_every_reason_a_role() -> None:
    granted = set(deployer_roles())
    assert granted == set(ROLE_REASONS)
    assert not (granted | set(PREVIEWER_ROLES)) & PRIMITIVE_ROLES
    assert all(role.startswith("roles/") for role in granted)


def test_project_iam_admin_is_there_because_the_program_grants_project_roles() -> None:
    """Named honestly: without project-level members in the renders it would be dropped."""
    assert "gcp:projects/iAMMember:IAMMember" in rendered_types()
    assert "roles/resourcemanager.projectIamAdmin" in deployer_roles(rendered_types())


def test_docs_carry_the_same_roles_and_reasons() -> None:
    text = (REPO_ROOT / "docs" / "ci-cd.md").read_text()
    section = text.split("### The deployer's roles", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(roles/[^`]+)` \| (.+) \|$", section, flags=re.MULTILINE)
    assert dict(rows) == ROLE_REASONS


# From Google's IAM reference for Cloud Build roles
# (https://cloud.google.com/iam/docs/roles-permissions/cloudbuild): the build permissions
# each candidate role holds. run.admin holds run.* only, no cloudbuild.* permission.
CLOUD_BUILD_ROLE_PERMISSIONS = {
    "roles/cloudbuild.builds.viewer": {"cloudbuild.builds.get", "cloudbuild.builds.list"},
    "roles/cloudbuild.builds.editor": {
        "cloudbuild.builds.create",
        "cloudbuild.builds.get",
        "cloudbuild.builds.list",
        "cloudbuild.builds.update",
    },
}


def test_the_image_build_may_create_list_and_read_builds() -> None:
    """SubmitBuild starts a Cloud Build build as the caller (cloudbuild.builds.create);
    the provider then reads it (get) and, when SubmitBuild names none, finds it by tag
    (list). builds.viewer, granted before, lacked create."""
    roles = RESOURCE_ROLES["pulumi-python:dynamic:Resource"]
    held = set().union(*(CLOUD_BUILD_ROLE_PERMISSIONS.get(r, set()) for r in roles))
    assert {"cloudbuild.builds.create", "cloudbuild.builds.get", "cloudbuild.builds.list"} <= held
