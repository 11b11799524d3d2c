"""Diffs as text for a terminal and as Markdown for a pull-request comment."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tools.diff.compare import Change, Diff

MAX_VALUE = 100
FULL_VALUE = 600
"""Values that force a replacement are shown (almost) whole: a filter is at most 256 B."""
BANNER = "!" * 24
MARKER = "<!-- switchboard-infra-diff -->"
"""First line of the Markdown comment, so CI can find and update its own comment."""


def _value(value: Any, limit: int = MAX_VALUE) -> str:
    text = "∅" if value is None else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _counts(diff: Diff) -> str:
    replaced = len(diff.of_kind("replaced"))
    return (
        f"{len(diff.of_kind('added'))} added, {len(diff.of_kind('removed'))} removed, "
        f"{len(diff.of_kind('changed')) + replaced} changed ({replaced} replaced)"
    )


def text_report(diffs: Sequence[tuple[str, Diff]]) -> str:
    lines: list[str] = []
    for title, diff in diffs:
        lines.append(f"== {title}: {diff.base_label} -> {diff.head_label}")
        if diff.empty:
            lines.append("   no changes")
            continue
        lines.append(f"   {_counts(diff)}")
        if diff.warnings:
            lines.append("")
            lines.append(f"   {BANNER} WARNING: DATA-LOSING CHANGES {BANNER}")
            lines += [f"   !! {w}" for w in diff.warnings]
            lines.append(f"   {BANNER}{BANNER}{BANNER}")
        lines.append("")
        for change in diff.changes:
            lines += _text_change(change)
    return "\n".join(lines) + "\n"


def _symbol(change: Change) -> str:
    return {"added": "+", "removed": "-", "changed": "~", "replaced": "+-"}[change.kind]


def _text_change(change: Change) -> list[str]:
    lines = [f"   {_symbol(change):>2} {change.id} ({change.kind})"]
    for p in change.properties:
        mark = "  [forces replacement]" if p.replaces else ""
        limit = FULL_VALUE if p.replaces else MAX_VALUE
        lines.append(
            f"        {p.path}: {_value(p.before, limit)} => {_value(p.after, limit)}{mark}"
        )
    return lines


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_report(diffs: Sequence[tuple[str, Diff]]) -> str:
    lines = [MARKER, "## Switchboard infrastructure diff (offline render)", ""]
    for title, diff in diffs:
        lines.append(f"### {title}: `{diff.base_label}` → `{diff.head_label}`")
        if diff.empty:
            lines += ["", "No changes.", ""]
            continue
        lines += ["", f"**{_counts(diff)}**", ""]
        if diff.warnings:
            lines += ["> [!CAUTION]", "> **Changes that lose data or traffic: act first.**", ">"]
            lines += [f"> - {_md_escape(w)}" for w in diff.warnings]
            lines.append("")
        lines += ["| | resource | change |", "|---|---|---|"]
        for change in diff.changes:
            lines.append(f"| {_symbol(change)} | `{change.id}` | {change.kind} |")
        detailed = [c for c in diff.changes if c.properties]
        if detailed:
            lines += ["", "<details><summary>Property changes</summary>", ""]
            for change in detailed:
                lines += [f"#### `{change.id}` ({change.kind})", ""]
                lines += ["| property | before | after |", "|---|---|---|"]
                for p in change.properties:
                    path = f"**{p.path}** (forces replacement)" if p.replaces else p.path
                    limit = FULL_VALUE if p.replaces else MAX_VALUE
                    lines.append(
                        f"| {_md_escape(path)} | `{_md_escape(_value(p.before, limit))}` "
                        f"| `{_md_escape(_value(p.after, limit))}` |"
                    )
                lines.append("")
            lines.append("</details>")
        lines.append("")
    return "\n".join(lines) + "\n"
