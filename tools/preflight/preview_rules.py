"""Preflight rules about what the program reads while it runs, and about its preview.

A Pulumi program's data sources (invokes) run while the program runs, in a preview too,
as whoever runs it: in a pull-request preview, the bootstrap's read-only previewer. The
renders record every invoke (``invokes``); the table
``bootstrap/switchboard_bootstrap/roles.py`` ``PROGRAM_READS`` says what each needs and
whether the program makes it at preview, and the previewer is granted exactly the roles of
those (``previewer_roles``). These rules fail where a render contradicts that:

- ``read-has-role``: any render (either mode) reads something the table does not know;
- ``preview-read-allowed``: a preview-mode render reads something the previewer's roles do
  not cover. A program-time read the previewer cannot make fails every pull-request
  preview with a 403 (issue 18, problem 4: ``get_secret_version`` in a preview);
- ``preview-declares-the-same``: the preview declares other resources than the update
  (a program that branches on a value unknown at preview shows reviewers a plan that is
  not the one `pulumi up` runs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from bootstrap.switchboard_bootstrap.roles import PROGRAM_READS, ProgramRead, previewer_roles
from tools.preflight.graph import Render
from tools.preflight.rules import Finding, StackFacts

PREVIEW = "preview"
ROLES_TABLE = "bootstrap/switchboard_bootstrap/roles.py PROGRAM_READS"


def reads_have_roles(
    render: Render, facts: StackFacts, reads: Mapping[str, ProgramRead] = PROGRAM_READS
) -> Iterator[Finding]:
    """Every invoke in a render (either mode) has an entry in the reads table."""
    for token in sorted({invoke.token for invoke in render.invokes} - set(reads)):
        yield Finding(
            "read-has-role",
            token,
            f"the program reads {token} ({render.mode}), which no entry of the reads table "
            "maps to the permission it needs",
            f"add it to {ROLES_TABLE} (permission, role, at_preview) and re-run the bootstrap",
        )


def preview_reads_are_allowed(
    render: Render, facts: StackFacts, reads: Mapping[str, ProgramRead] = PROGRAM_READS
) -> Iterator[Finding]:
    """Every invoke in a preview-mode render is one the previewer's roles cover."""
    if render.mode != PREVIEW:
        return
    granted = previewer_roles(reads)
    for token in sorted({invoke.token for invoke in render.invokes} & set(reads)):
        read = reads[token]
        if read.role in granted:
            continue
        yield Finding(
            "preview-read-allowed",
            token,
            f"the program reads {token} in a preview, as the previewer, which has only "
            f"{', '.join(sorted(granted)) or 'no role'} in the stack's project and lacks "
            f"{read.permission}: every pull-request preview fails with 403",
            "skip the read in a preview (`pulumi.runtime.is_dry_run()`; the update still "
            f"makes it as the deployer), or mark it at_preview in {ROLES_TABLE} so the "
            f"previewer gets {read.role}",
        )


def preview_declares_the_same(preview: Render, update: Render) -> Iterator[Finding]:
    """The preview declares exactly the resources the update declares."""
    only_preview = sorted(set(preview.nodes) - set(update.nodes))
    only_update = sorted(set(update.nodes) - set(preview.nodes))
    for node_id in only_preview:
        yield Finding(
            "preview-declares-the-same",
            node_id,
            "declared in a preview but not in the update: reviewers see a plan "
            "`pulumi up` does not run",
            "do not branch on values unknown at preview (outputs of resources being created)",
        )
    for node_id in only_update:
        yield Finding(
            "preview-declares-the-same",
            node_id,
            "declared in the update but not in a preview: the pull-request preview hides it",
            "do not branch on values unknown at preview (outputs of resources being created)",
        )


PREVIEW_RULES = (reads_have_roles, preview_reads_are_allowed)


def check_reads(render: Render, facts: StackFacts) -> list[Finding]:
    """The reads rules over one render (either mode)."""
    return [finding for rule in PREVIEW_RULES for finding in rule(render, facts)]
