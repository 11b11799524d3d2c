"""Labels every resource that takes them carries, so billing and audits can group them."""

from __future__ import annotations

from infra.settings import StackSettings


def common_labels(settings: StackSettings, **extra: str) -> dict[str, str]:
    labels = {"app": "switchboard", "environment": settings.environment, "stack": settings.stack}
    labels.update(extra)
    return labels
