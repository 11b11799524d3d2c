"""The local platform's values of the per-stack settings agents declare (``settings:``).

Cloud stacks give them in ``Pulumi.<stack>.yaml`` (``switchboard:agentSettings``); the local
platform reads ``localdev/settings.yaml``, checked against the same patterns
(``infra/catalogue/env_policy.py``). A missing or malformed value is a
:class:`LocalSettingsError` naming the file and the key, before anything starts.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.catalogue import Catalogue, env_policy

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCAL_SETTINGS = REPO_ROOT / env_policy.LOCAL_SETTINGS_FILE
KEY = "agentSettings"
MAX_FILE_BYTES = 64 * 1024


class LocalSettingsError(ValueError):
    """``localdev/settings.yaml`` is missing a value or holds a malformed one."""


def load_local_settings(path: Path = LOCAL_SETTINGS) -> dict[str, str]:
    """Every value in the file, each checked against its setting's pattern."""
    where = _shown(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LocalSettingsError(f"{where}: larger than {MAX_FILE_BYTES} bytes")
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise LocalSettingsError(f"{where}: cannot read it ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise LocalSettingsError(f"{where}: not valid YAML ({error})") from None
    values = document.get(KEY) if isinstance(document, dict) else None
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise LocalSettingsError(f"{where}: {KEY} must be a mapping of NAME: value")
    problems = [
        f"  - {KEY}.{name}: {why}"
        for name, value in sorted(values.items(), key=lambda item: str(item[0]))
        if (why := env_policy.value_refusal(str(name), value)) is not None
    ]
    if problems:
        raise LocalSettingsError(f"invalid local settings ({where}):\n" + "\n".join(problems))
    return {str(name): str(value) for name, value in values.items()}


def local_agent_settings(
    catalogue: Catalogue, path: Path = LOCAL_SETTINGS
) -> dict[str, dict[str, str]]:
    """Per agent, its declared settings with their local values."""
    values = load_local_settings(path)
    missing = [
        f"  - {KEY}.{name}: required by {', '.join(agents)} (manifest settings:) but not set; "
        f'add it, e.g. {name}: "{_example(name)}"'
        for name, agents in catalogue.setting_readers().items()
        if name not in values
    ]
    if missing:
        raise LocalSettingsError(f"invalid local settings ({_shown(path)}):\n" + "\n".join(missing))
    return {
        name: {setting: values[setting] for setting in agent.settings}
        for name, agent in catalogue.agents.items()
    }


def _example(name: str) -> str:
    setting = env_policy.ALLOWED_SETTINGS.get(name)
    return setting.example if setting and setting.example else "<value>"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
