"""The offline harness leaves the process as it found it, so a test process can render as
often as it likes."""

from __future__ import annotations

import pickle

import pulumi_gcp as gcp

from infra.iam.propagation import GrantPropagation, GrantPropagationArgs
from infra.offline.harness import run_under_mocks


def program_with_one_dynamic_resource() -> None:
    grant = gcp.projects.IAMMember(
        "grant", project="p", role="roles/viewer", member="serviceAccount:a@p.iam"
    )
    GrantPropagation("wait", GrantPropagationArgs(grants=[grant]))


def test_a_run_leaves_pickle_as_it_found_it() -> None:
    """pulumi's ``serialize_provider`` wraps ``pickle._Pickler._batch_setitems`` on every
    call and never unwraps it; without the harness undoing that, about 70 renders in one
    process end in a RecursionError when the next provider is pickled."""
    before = (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict)  # type: ignore[attr-defined]
    for _ in range(3):
        run = run_under_mocks(program_with_one_dynamic_resource, stack="dev", config={})
        assert [r.name for r in run.of_type("pulumi-python:dynamic:Resource")] == ["wait"]
    after = (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict)  # type: ignore[attr-defined]
    assert after == before
