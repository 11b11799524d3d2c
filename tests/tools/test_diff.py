"""The diff tool: property-level changes, replacements and the warnings reviewers need."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.offline.harness import REPO_ROOT
from tests.tools.conftest import fresh_render
from tools.diff import __main__ as cli
from tools.diff import sources
from tools.diff.compare import compare, flatten
from tools.diff.hazards import REMOVAL_ADVICE
from tools.diff.report import MARKER, markdown_report, text_report
from tools.diff.sources import working_tree

SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"


def _resource(rid: str, inputs: dict[str, Any], **options: Any) -> dict[str, Any]:
    typ, name = rid.rsplit("::", 1)
    return {
        "id": rid,
        "type": typ,
        "name": name,
        "parent": None,
        "dependencies": [],
        "options": {"deleteBeforeReplace": False, "replaceOnChanges": [], **options},
        "inputs": inputs,
    }


@pytest.mark.slow
def test_filter_change_in_a_functions_copy_is_a_replacement_with_a_warning(
    functions_copy: Path, edit_manifest: Callable[..., Path]
) -> None:
    def narrow(doc: dict[str, Any]) -> None:
        doc["subscriptions"][0]["filter"] = 'attributes.type = "booking.requested"'

    edit_manifest("scheduler/agent.yaml", narrow)
    diff = compare(fresh_render("dev"), working_tree("dev", functions_copy), "main", "pr")
    changed = {c.id: c for c in diff.changes}
    subscription = changed[f"{SUBSCRIPTION}::scheduler-on-bookings"]
    assert subscription.kind == "replaced"
    assert [p.path for p in subscription.properties if p.replaces] == ["filter"]
    assert subscription.delete_before_replace
    assert len(diff.warnings) == 1
    warning = diff.warnings[0]
    assert "scheduler-on-bookings" in warning
    assert "replacement drops its backlog: drain it or seek first" in warning
    text = text_report([("dev", diff)])
    assert "WARNING" in text and "[forces replacement]" in text
    markdown = markdown_report([("dev", diff)])
    assert markdown.startswith(MARKER)
    assert "> [!CAUTION]" in markdown
    assert "**filter** (forces replacement)" in markdown


def test_unchanged_render_has_no_changes() -> None:
    diff = compare(fresh_render("dev"), copy.deepcopy(fresh_render("dev")))
    assert diff.empty
    assert "no changes" in text_report([("dev", diff)])
    assert "No changes." in markdown_report([("dev", diff)])


def test_added_removed_changed_and_removal_warning() -> None:
    bucket = "gcp:storage/bucket:Bucket::sources"
    topic = "gcp:pubsub/topic:Topic::bookings"
    base = {
        "resources": [
            _resource(bucket, {"name": "b", "location": "EU"}),
            _resource(topic, {"name": "bookings", "labels": {"a": "1"}}),
        ]
    }
    head = {
        "resources": [
            _resource(topic, {"name": "bookings", "labels": {"a": "2"}}),
            _resource("gcp:pubsub/topic:Topic::new", {"name": "new"}),
        ]
    }
    diff = compare(base, head)
    kinds = {c.id: c.kind for c in diff.changes}
    assert kinds == {bucket: "removed", topic: "changed", "gcp:pubsub/topic:Topic::new": "added"}
    labels = next(c for c in diff.changes if c.id == topic).properties
    assert [(p.path, p.before, p.after, p.replaces) for p in labels] == [
        ("labels.a", "1", "2", False)
    ]
    assert diff.warnings == [f"{bucket} is REMOVED: {REMOVAL_ADVICE}"]


@pytest.mark.parametrize(
    ("rid", "field", "advice"),
    [
        ("gcp:storage/bucket:Bucket::b", "location", "copy the objects out"),
        ("gcp:secretmanager/secret:Secret::s", "secretId", "export the current value"),
        ("gcp:firestore/database:Database::d", "locationId", "firestore export"),
        ("gcp:pubsub/topic:Topic::t", "name", "pause publishers"),
    ],
)
def test_immutable_fields_of_stateful_types_warn(rid: str, field: str, advice: str) -> None:
    diff = compare(
        {"resources": [_resource(rid, {field: "a"})]}, {"resources": [_resource(rid, {field: "b"})]}
    )
    assert diff.changes[0].kind == "replaced"
    assert advice in diff.warnings[0]


def test_replace_on_changes_option_and_stack_mode() -> None:
    rid = "gcp:cloudscheduler/job:Job::tick"
    base = {"resources": [_resource(rid, {"schedule": "* * * * *"}, replaceOnChanges=["*"])]}
    head = {"resources": [_resource(rid, {"schedule": "0 * * * *"}, replaceOnChanges=["*"])]}
    assert compare(base, head).changes[0].kind == "replaced"
    assert compare(base, head, replacements=False).changes[0].kind == "changed"
    assert compare(base, head).warnings == []  # not a stateful type


def test_an_image_build_is_replaced_when_its_archive_changes_not_its_identity() -> None:
    rid = "pulumi-python:dynamic:Resource::gateway-build"
    base = {"resources": [_resource(rid, {"content_hash": "a", "service_account": "x"})]}
    new_code = {"resources": [_resource(rid, {"content_hash": "b", "service_account": "x"})]}
    new_identity = {"resources": [_resource(rid, {"content_hash": "a", "service_account": "y"})]}
    assert compare(base, new_code).changes[0].kind == "replaced"
    assert compare(base, new_code).warnings == []  # a new image is no data loss
    assert compare(base, new_identity).changes[0].kind == "changed"


def test_flatten() -> None:
    assert flatten({"a": {"b": [1, {"c": 2}]}, "e": {}, "f": []}) == {
        "a.b[0]": 1,
        "a.b[1].c": 2,
        "e": {},
        "f": [],
    }


@pytest.mark.slow
def test_cli_default_and_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLI plumbing (renders are cached: rendering itself is tested elsewhere)."""
    monkeypatch.setattr(cli, "working_tree", lambda stack, root=None: fresh_render(stack))
    out = tmp_path / "comment.md"
    assert cli.main(["--stack", "dev", "--markdown", "--output", str(out)]) == 0
    assert out.read_text().startswith(MARKER)
    assert cli.main(["--stacks", "dev", "prod"]) == 0
    assert "dev vs prod" in capsys.readouterr().out


@pytest.mark.slow
def test_git_ref_mode_renders_in_a_temporary_tree(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--base/--head: each ref is extracted (here: a copy of the working tree standing in
    for ``git archive``) and rendered in a subprocess with this checkout's renderer."""
    import shutil

    def fake_extract(repo: Path, ref: str, target: Path) -> None:
        for name in ("infra", "functions"):
            shutil.copytree(
                repo / name, target / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        for stack_file in repo.glob("Pulumi*.yaml"):
            shutil.copy(stack_file, target / stack_file.name)

    monkeypatch.setattr(sources, "_extract", fake_extract)
    assert cli.main(["--base", "main", "--head", "feature", "--stack", "dev"]) == 0
    assert "no changes" in capsys.readouterr().out


def test_git_archive_extracts_a_ref_read_only(tmp_path: Path) -> None:
    sources._extract(REPO_ROOT, "HEAD", tmp_path)
    assert (tmp_path / "infra" / "program.py").is_file()
    with pytest.raises(sources.RefRenderError, match="no-such-ref"):
        sources._extract(REPO_ROOT, "no-such-ref", tmp_path / "x")


def test_default_base_is_the_render_committed_at_head(tmp_path: Path) -> None:
    """`make render` rewrites rendered/; `make diff` still shows the change against what
    is committed, not "no changes"."""
    import json
    import subprocess

    repo = tmp_path / "repo"

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    (repo / "rendered").mkdir(parents=True)
    render = repo / "rendered" / "dev.json"
    render.write_text(json.dumps({"resources": [{"urn": "committed"}]}))
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "render")
    render.write_text(json.dumps({"resources": [{"urn": "re-rendered"}]}))
    assert sources.committed_at(repo, "HEAD", "dev") == {"resources": [{"urn": "committed"}]}
    assert sources.committed_at(repo, "HEAD", "prod") == {"resources": []}
    outside = tmp_path / "outside"
    (outside / "rendered").mkdir(parents=True)
    (outside / "rendered" / "dev.json").write_text('{"resources": [{"urn": "file"}]}')
    assert sources.committed_at(outside, "HEAD", "dev") == {"resources": [{"urn": "file"}]}
