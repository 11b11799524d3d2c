"""What a deploy deployed, as deterministic JSON (pure; no Pulumi).

The resolved catalogue (each agent's manifest, its subscriptions with their effective
filters, its plan and archive) and the stack settings. Secrets appear by name only:
settings carry names (``secretsFromConfig``), never values, and plans carry the env var
-> secret name mapping. No timestamps: the object is named by the content's hash, and
Pulumi's history (and the object's creation time) say when it was written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from infra.agent.plan import AgentPlan
from infra.catalogue import Catalogue
from infra.settings import StackSettings

FORMAT_VERSION = 1
PREFIX = "deploys"


def _agent(catalogue: Catalogue, plan: AgentPlan, archive: str | None) -> dict[str, Any]:
    return {
        "manifest": catalogue.agent(plan.name).model_dump(mode="json"),
        "subscriptions": [
            {
                "id": c.subscription_id,
                "topic": c.topic,
                "effectiveFilter": c.effective_filter,
                "deadLetterTopic": c.dead_letter_topic_id,
                "deadLetterSubscription": c.dead_letter_subscription_id,
            }
            for c in sorted(plan.consumers, key=lambda c: c.subscription_id)
        ],
        "deployed": {
            "platform": plan.platform,
            "memory": plan.memory,
            "cpu": plan.cpu,
            "timeoutSeconds": plan.timeout_seconds,
            "concurrency": plan.concurrency,
            "minInstances": plan.min_instances,
            "maxInstances": plan.max_instances,
            "public": plan.public,
            "env": plan.env,
            "secretEnv": plan.secret_env,
            "archive": archive,
        },
    }


def snapshot(
    settings: StackSettings,
    catalogue: Catalogue,
    plans: Mapping[str, AgentPlan],
    archives: Mapping[str, str],
) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "stack": settings.stack,
        "settings": settings.model_dump(mode="json", by_alias=True),
        "catalogue": {
            "topics": {n: t.model_dump(mode="json") for n, t in catalogue.topics.items()},
            "secrets": {n: s.model_dump(mode="json") for n, s in catalogue.secrets.items()},
            "agents": {
                name: _agent(catalogue, plans[name], archives.get(name)) for name in sorted(plans)
            },
        },
    }


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=True) + "\n"


def object_name(text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"{PREFIX}/{digest}.json"
