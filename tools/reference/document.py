"""docs/reference.md: the stack settings, agent manifest and catalogue references as one
Markdown document, every row read from the models (:mod:`tools.reference.fields`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from infra.catalogue.model import AgentManifest, SecretSpec, TopicSpec
from infra.settings import GCP_KEYS, NAMESPACE, SecretSource, StackSettings
from tools.reference.fields import Leaf, Row, Walk, rows

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path("docs/reference.md")
COMMAND = "make reference"

SETTINGS_WALK = Walk(
    key=lambda name, info: info.alias or name,
    leaves={SecretSource: Leaf("`config` or `external:<N>`")},
)
MANIFEST_WALK = Walk(key=lambda name, info: name, leaves={})
# StackSettings fields the program fills in; no Pulumi.<stack>.yaml key sets them directly.
NOT_CONFIG_KEYS = ("stack", "secretsFromConfig")

HEADER = f"""\
<!-- generated: `python -m tools.reference` ({COMMAND}) from the pydantic models; do not
edit by hand: change the field's docstring or annotation and regenerate. The suite fails
while this file is not current (tests/tools/test_reference.py). -->

# Configuration reference

Every key a stack, an agent or the catalogue may set: its type, its default, the limits
the model enforces (refused before anything is declared, naming the key) and what it does.
Rules across keys (prod's guards, an agent's timeout against its ack deadlines) are in
`infra/settings.py` (`stack_policy`) and `infra/catalogue/rules.py`.
"""


def document() -> str:
    """The whole of docs/reference.md."""
    settings = rows(StackSettings, SETTINGS_WALK)
    keys = [row for row in settings if row.key not in NOT_CONFIG_KEYS]
    derived = [row for row in settings if row.key in NOT_CONFIG_KEYS]
    parts = [
        HEADER,
        "## Stack settings (`Pulumi.<stack>.yaml`)\n",
        "Read by `StackSettings` in `infra/settings.py`. Keys under `switchboard:` are "
        "camelCase; `<name>` is an agent's or a secret's name. Each stack's own values are "
        "in the README's table.\n",
        _table([_config_key(row) for row in keys]),
        "Not set as keys (the program fills them in):\n",
        "".join(f"- `{row.key}`: {row.description}\n" for row in derived),
        "## Agent manifest (`functions/<agent>/agent.yaml`)\n",
        "Read by `AgentManifest` in `infra/catalogue/model.py`; unknown fields are refused. "
        "`[]` is an item of a list.\n",
        _table(rows(AgentManifest, MANIFEST_WALK)),
        "## Catalogue (`functions/catalogue.yaml`)\n",
        "Topics and secrets, each declared once under its name.\n",
        _table(
            _under("topics.<name>.", TopicSpec) + _under("secrets.<name>.", SecretSpec),
        ),
    ]
    return "\n".join(parts)


def _under(prefix: str, model: type[BaseModel]) -> list[Row]:
    return rows(model, MANIFEST_WALK, prefix)


def _config_key(row: Row) -> Row:
    top, _, rest = row.key.partition(".")
    key = GCP_KEYS[top] if top in GCP_KEYS and not rest else f"{NAMESPACE}:{row.key}"
    return Row(key, row.type, row.default, row.limits, row.description)


def _table(table_rows: Iterable[Row]) -> str:
    lines = ["| key | type | default | limits | description |", "|---|---|---|---|---|"]
    for row in table_rows:
        cells = (f"`{row.key}`", row.type, row.default, "; ".join(row.limits), row.description)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Pipes escaped (even inside code spans GitHub's tables split on them)."""
    return text.replace("|", "\\|")


def stale(root: Path = REPO_ROOT) -> bool:
    """Whether the committed reference differs from what the models say now."""
    path = root / REFERENCE
    return not path.is_file() or path.read_text(encoding="utf-8") != document()


def write(root: Path = REPO_ROOT) -> Path:
    path = root / REFERENCE
    path.write_text(document(), encoding="utf-8")
    return path
