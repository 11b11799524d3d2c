"""Reading a small committed YAML/JSON input, validated by a pydantic model, errors named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tools.cost.errors import CostInputError

M = TypeVar("M", bound=BaseModel)
MAX_INPUT_BYTES = 512 * 1024


def validate(model: type[M], data: Any, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise CostInputError(f"{where}: field {field}: {first['msg']}") from None


def read_file(model: type[M], path: Path) -> M:
    try:
        raw = path.read_bytes()[: MAX_INPUT_BYTES + 1]
    except OSError as error:
        raise CostInputError(f"{path}: cannot read ({error.strerror})") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise CostInputError(f"{path}: over {MAX_INPUT_BYTES} bytes")
    try:
        data = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
    except (ValueError, yaml.YAMLError) as error:
        raise CostInputError(f"{path}: not valid {path.suffix[1:].upper()} ({error})") from None
    return validate(model, data, str(path))
