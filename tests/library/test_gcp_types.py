"""The GCP type tokens: each one is the token pulumi_gcp registers, and none is spelled
again in the program or the tools."""

from __future__ import annotations

import importlib
import inspect
import re
import tokenize
from pathlib import Path

import pytest

from library import gcp_types

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKENS = {
    name: value
    for name, value in vars(gcp_types).items()
    if name.isupper() and isinstance(value, str) and value != gcp_types.PREFIX
}


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_each_token_is_the_one_pulumi_gcp_registers(name: str) -> None:
    token = TOKENS[name]
    module_name, member = token.removeprefix(gcp_types.PREFIX).split(":")
    module = importlib.import_module(f"pulumi_gcp.{module_name.split('/')[0]}")
    if member[0].isupper():
        source = inspect.getsource(getattr(module, member))
    else:  # a data source: get_project, get_secret_version
        function = re.sub(r"(?<!^)(?=[A-Z])", "_", member).lower()
        source = inspect.getsource(getattr(module, function))
    assert f"'{token}'" in source or f'"{token}"' in source


def test_no_token_is_spelled_out_again() -> None:
    """Under infra/ and tools/ a type token appears only through library.gcp_types (the
    policy pack's own venv cannot import the library yet: policy/ keeps its own)."""
    spelled = re.compile(r"""^["']gcp:[a-z0-9]+/[A-Za-z0-9]+:[A-Za-z0-9]+["']$""")
    found = []
    for folder in ("infra", "tools"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            with path.open(encoding="utf-8") as source:
                for token in tokenize.generate_tokens(source.readline):
                    if token.type == tokenize.STRING and spelled.match(token.string):
                        found.append(f"{path.relative_to(REPO_ROOT)}:{token.start[0]}")
    assert found == []
