"""The deployer's roles follow what the main program declares (rendered/<stack>.json)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import cache
from typing import Any

import pytest

from bootstrap.switchboard_bootstrap.roles import (
    OUTSIDE_THE_PROJECT,
    PREVIEWER_ROLES,
    PRIMITIVE_ROLES,
    PROGRAM_READS,
    RESOURCE_ROLES,
    ROLE_REASONS,
    deployer_roles,
    previewer_roles,
    unmapped_reads,
)
from infra.offline.harness import REPO_ROOT, run_stack
from tests.committed_renders import committed_run
from tools.render.manifest import STACKS

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


# --- the previewer: derived from what the program reads at preview (issue 18) ----------

BUDGET = {"switchboard:budget": {"billingAccount": "012345-6789AB-CDEF01"}}
"""The opt-in feature whose read (getProject) no committed stack makes."""


def _tokens(run: Any) -> set[str]:
    return {invoke.token for invoke in run.invokes}


@cache
def reads(stack: str, *, budget: bool = False, preview: bool = False) -> frozenset[str]:
    """The invokes one run of the program makes (each run once per session: two tests ask)."""
    run = (
        run_stack(stack, overrides=BUDGET, preview=preview)
        if budget
        else committed_run(stack, preview)
    )
    return frozenset(_tokens(run))


def rendered_reads() -> set[str]:
    return {i["token"] for path in RENDERS for i in json.loads(path.read_text())["invokes"]}


@pytest.mark.slow
def test_every_read_the_program_makes_has_its_role() -> None:
    """Fails when the program starts calling an invoke (data source) the table lacks."""
    seen = rendered_reads() | reads("dev", budget=True)
    for stack in STACKS:
        seen |= reads(stack, preview=True)
    assert "gcp:secretmanager/getSecretVersion:getSecretVersion" in seen
    assert not unmapped_reads(seen), (
        f"add these to bootstrap/switchboard_bootstrap/roles.py PROGRAM_READS: "
        f"{unmapped_reads(seen)}"
    )


def test_a_new_read_is_refused_until_mapped() -> None:
    assert unmapped_reads({"gcp:new/getThing:getThing", *PROGRAM_READS}) == [
        "gcp:new/getThing:getThing"
    ]


@pytest.mark.slow
def test_the_table_says_exactly_which_reads_run_at_preview() -> None:
    """at_preview is what the program does, not a guess: each stack (and the opt-in budget)
    run as a first preview reads exactly the at_preview entries; an update reads them all."""
    at_preview = set().union(*(reads(s, preview=True) for s in STACKS))
    at_preview |= reads("dev", budget=True, preview=True)
    assert at_preview == {t for t, read in PROGRAM_READS.items() if read.at_preview}
    in_update = rendered_reads() | reads("dev", budget=True)
    assert in_update == set(PROGRAM_READS)


def test_previewer_roles_are_the_preview_reads_roles_and_read_only() -> None:
    derived = previewer_roles()
    assert derived == PREVIEWER_ROLES
    assert set(derived) == {read.role for read in PROGRAM_READS.values() if read.at_preview}
    assert "roles/secretmanager.viewer" not in derived  # problem 4: no read at preview
    assert not set(derived) & PRIMITIVE_ROLES
    assert not [r for r in derived if r.endswith((".admin", ".editor", "Admin", "Editor"))]


def test_the_deployer_can_make_every_read() -> None:
    for token, read in PROGRAM_READS.items():
        assert read.deployer_role in deployer_roles(), token


def test_a_read_moved_into_the_preview_gives_the_previewer_its_role() -> None:
    moved = dict(PROGRAM_READS)
    token = "gcp:secretmanager/getSecretVersion:getSecretVersion"
    moved[token] = replace(moved[token], at_preview=True)
    assert "roles/secretmanager.viewer" in previewer_roles(moved)


def test_docs_carry_the_reads_table() -> None:
    text = (REPO_ROOT / "docs" / "ci-cd.md").read_text()
    section = text.split("### The previewer's roles", 1)[1].split("\n#", 1)[0]
    rows = re.findall(
        r"^\| `([^`]+)` \(.+\) \| `([^`]+)` \| `([^`]+)` \| (yes|no)\b", section, re.MULTILINE
    )
    documented = {token: (permission, role, at == "yes") for token, permission, role, at in rows}
    assert documented == {
        token.rsplit(":", 1)[0]: (read.permission, read.role, read.at_preview)
        for token, read in PROGRAM_READS.items()
    }


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
