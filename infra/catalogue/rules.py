"""Rules that span fields or files: references, names, and GCP's combined limits.

Each rule takes the parsed catalogue and returns the problems it found; the loader runs
them all and reports every problem at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from infra.catalogue import env_policy, naming
from infra.catalogue.catalogue import effective_filter
from infra.catalogue.errors import Problem, excerpt
from infra.catalogue.filter_language import MAX_FILTER_BYTES, FilterSyntaxError, parse_filter
from infra.catalogue.model import AgentManifest, SecretSpec, TopicSpec, memory_mebibytes


class Context:
    """What the rules see: the declarations and, per agent, the file it came from."""

    def __init__(
        self,
        topics: Mapping[str, TopicSpec],
        secrets: Mapping[str, SecretSpec],
        agents: Mapping[str, AgentManifest],
        agent_files: Mapping[str, str],
        catalogue_file: str,
        *,
        declarations_complete: bool = True,
    ) -> None:
        self.topics = topics
        self.secrets = secrets
        self.agents = agents
        self.agent_files = agent_files
        self.catalogue_file = catalogue_file
        self.declarations_complete = declarations_complete
        """False when catalogue.yaml had problems: "unknown topic" would then be noise."""

    def problem(self, agent: AgentManifest, field: str, message: str) -> Problem:
        return Problem(self.agent_files[agent.name], field, message)


Rule = Callable[[Context], Iterable[Problem]]


def check_topic_and_secret_names(ctx: Context) -> Iterable[Problem]:
    for name in ctx.topics:
        if not re.fullmatch(r"[a-z][a-z0-9-]{2,62}", name) or name.startswith("goog"):
            yield Problem(
                ctx.catalogue_file,
                f"topics.{name}",
                "topic names must be 3-63 lowercase letters, digits or dashes, start with a "
                "letter and not start with 'goog' (Pub/Sub topic id rules)",
            )
    for name in ctx.secrets:
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}[a-z0-9]", name):
            yield Problem(
                ctx.catalogue_file,
                f"secrets.{name}",
                "secret names must be 2-64 lowercase letters, digits or dashes, start with a "
                "letter (Secret Manager id rules, and they become env var names)",
            )
    owners: dict[str, str] = {}
    for topic_name, topic in ctx.topics.items():
        for index, event_type in enumerate(topic.event_types):
            if event_type in owners:
                yield Problem(
                    ctx.catalogue_file,
                    f"topics.{topic_name}.event_types[{index}]",
                    f"event type {event_type!r} is already carried by topic "
                    f"{owners[event_type]!r}; each event type belongs to exactly one topic",
                )
            owners.setdefault(event_type, topic_name)


def check_agent_names(ctx: Context) -> Iterable[Problem]:
    for agent in ctx.agents.values():
        if not re.fullmatch(naming.AGENT_NAME_PATTERN, agent.name):
            yield ctx.problem(
                agent,
                "name",
                f"agent name {agent.name!r} (its folder name) must be 3-22 lowercase letters, "
                "digits or dashes, start with a letter and not end with a dash, so that its "
                f"service account id {naming.invoker_account_id(agent.name)!r} fits GCP's "
                "6-30 character limit",
            )


def check_references(ctx: Context) -> Iterable[Problem]:
    if not ctx.declarations_complete:
        return
    known_topics = ", ".join(ctx.topics)
    for agent in ctx.agents.values():
        references = [
            (f"subscriptions[{i}].topic", s.topic) for i, s in enumerate(agent.subscriptions)
        ]
        references += [(f"publishes[{i}]", topic) for i, topic in enumerate(agent.publishes)]
        if agent.schedule is not None:
            references.append(("schedule.topic", agent.schedule.topic))
        for field, topic in references:
            if topic not in ctx.topics:
                yield ctx.problem(
                    agent,
                    field,
                    f"unknown topic {excerpt(topic)}; topics are declared once in "
                    f"{ctx.catalogue_file} (declared: {known_topics})",
                )
        for index, secret in enumerate(agent.secrets):
            if secret not in ctx.secrets:
                yield ctx.problem(
                    agent,
                    f"secrets[{index}]",
                    f"secret {excerpt(secret)} is not declared under secrets in "
                    f"{ctx.catalogue_file}",
                )


def check_duplicates(ctx: Context) -> Iterable[Problem]:
    for agent in ctx.agents.values():
        lists = {
            "subscriptions": [s.topic for s in agent.subscriptions],
            "publishes": list(agent.publishes),
            "secrets": list(agent.secrets),
        }
        for field, values in lists.items():
            for value, count in Counter(values).items():
                if count > 1:
                    what = "subscription to topic" if field == "subscriptions" else "entry"
                    yield ctx.problem(
                        agent, field, f"duplicate {what} {excerpt(value)} (listed {count} times)"
                    )


def check_ingress(ctx: Context) -> Iterable[Problem]:
    for agent in ctx.agents.values():
        if agent.is_public and not agent.public_reason:
            yield ctx.problem(
                agent,
                "public_reason",
                "ingress is public, so public_reason must say why and how requests are "
                "authenticated (e.g. webhook signatures verified)",
            )
        if agent.is_public and agent.platform != "run":
            yield ctx.problem(
                agent,
                "platform",
                "a public agent must be platform: run (it is public by disabling Cloud Run's "
                "invoker IAM check, which a 2nd-gen function's resource cannot set; the "
                "alternative, an allUsers grant, is refused by Domain Restricted Sharing)",
            )
        if not agent.is_public and agent.public_reason:
            yield ctx.problem(
                agent, "public_reason", "only allowed with ingress: public (ingress is internal)"
            )
        if not agent.is_public and not agent.subscriptions:
            yield ctx.problem(
                agent,
                "subscriptions",
                "an internal agent with no subscriptions can never be invoked; subscribe it "
                "to a topic or make its ingress public",
            )


def check_filters(ctx: Context) -> Iterable[Problem]:
    for agent in ctx.agents.values():
        for index, spec in enumerate(agent.subscriptions):
            field = f"subscriptions[{index}].filter"
            try:
                parsed = parse_filter(spec.filter)
            except FilterSyntaxError as error:
                yield ctx.problem(agent, field, str(error))
                continue
            deployed = effective_filter(agent.name, spec)
            size = len(deployed.encode())
            if size > MAX_FILTER_BYTES:
                clause = len(naming.redrive_clause(agent.name, spec.topic).encode())
                yield ctx.problem(
                    agent,
                    field,
                    f"the deployed filter would be {size} bytes, over Pub/Sub's "
                    f"{MAX_FILTER_BYTES}-byte limit (the manifest's filter is "
                    f"{len(spec.filter.encode())} bytes; the redrive clause adds {clause})",
                )
            for key in sorted(parsed.attribute_keys()):
                if "" in parsed.values_for(key):
                    yield ctx.problem(
                        agent,
                        field,
                        f'compares attributes.{key} with "" (no message the platform publishes '
                        "has an empty attribute; the subscription would receive nothing)",
                    )
            topic = ctx.topics.get(spec.topic)
            if topic is None:
                continue
            for value in sorted(parsed.values_for("type")):
                prefix_of_known = any(t.startswith(value) for t in topic.event_types)
                if value not in topic.event_types and not prefix_of_known:
                    yield ctx.problem(
                        agent,
                        field,
                        f"event type {value!r} is not carried by topic {spec.topic!r} "
                        f"(it carries: {', '.join(topic.event_types)})",
                    )


def check_timing(ctx: Context) -> Iterable[Problem]:
    for agent in ctx.agents.values():
        for index, spec in enumerate(agent.subscriptions):
            if spec.ack_deadline_seconds < agent.timeout_seconds:
                yield ctx.problem(
                    agent,
                    f"subscriptions[{index}].ack_deadline_seconds",
                    f"ack deadline {spec.ack_deadline_seconds}s is shorter than the agent's "
                    f"timeout_seconds {agent.timeout_seconds}s: Pub/Sub would redeliver while "
                    "the first delivery is still running",
                )


def check_sizing(ctx: Context) -> Iterable[Problem]:
    for agent in ctx.agents.values():
        if agent.min_instances > agent.max_instances:
            yield ctx.problem(
                agent,
                "min_instances",
                f"min_instances {agent.min_instances} exceeds max_instances {agent.max_instances}",
            )
        cpu = float(agent.cpu) if agent.cpu is not None else None
        if agent.concurrency > 1 and (cpu is None or cpu < 1):
            yield ctx.problem(
                agent,
                "cpu",
                f"concurrency {agent.concurrency} needs at least 1 vCPU (Cloud Run rule for "
                'more than one concurrent request per instance); set cpu: "1"',
            )
        big_memory = agent.memory is not None and memory_mebibytes(agent.memory) > 4096
        if big_memory and cpu is not None and cpu < 2:
            yield ctx.problem(
                agent, "cpu", f"memory {agent.memory} needs at least 2 vCPUs (Cloud Run rule)"
            )


def check_schedule(ctx: Context) -> Iterable[Problem]:
    for agent in ctx.agents.values():
        if agent.schedule is None:
            continue
        if agent.schedule.topic not in {s.topic for s in agent.subscriptions}:
            yield ctx.problem(
                agent,
                "schedule.topic",
                f"the schedule publishes to {agent.schedule.topic!r} but the agent has no "
                "subscription to it, so its ticks would reach nobody",
            )


def check_env(ctx: Context) -> Iterable[Problem]:
    for agent in ctx.agents.values():
        secret_vars = {naming.secret_env_var(s) for s in agent.secrets}
        for key, value in agent.env.items():
            field = f"env.{key}"
            if key in secret_vars:
                yield ctx.problem(agent, field, "collides with a secret's environment variable")
                continue
            refusal = env_policy.refusal(key, value)
            if refusal is not None:
                yield ctx.problem(agent, field, refusal)
        seen: set[str] = set()
        for index, name in enumerate(agent.settings):
            field = f"settings[{index}]"
            if name in seen:
                yield ctx.problem(agent, field, f"{name} is listed twice")
            elif name in agent.env:
                yield ctx.problem(
                    agent, field, f"{name} is also set under env: (give it in one place)"
                )
            elif name in secret_vars:
                yield ctx.problem(agent, field, "collides with a secret's environment variable")
            elif (why := env_policy.declaration_refusal(name)) is not None:
                yield ctx.problem(agent, field, f"{name} {why}")
            seen.add(name)


def check_firestore(ctx: Context) -> Iterable[Problem]:
    for agent in ctx.agents.values():
        if agent.subscriptions and not agent.firestore:
            yield ctx.problem(
                agent,
                "firestore",
                "an agent with subscriptions keeps its idempotency claims in Firestore; "
                "set firestore: true",
            )


RULES: tuple[Rule, ...] = (
    check_topic_and_secret_names,
    check_agent_names,
    check_references,
    check_duplicates,
    check_ingress,
    check_filters,
    check_timing,
    check_sizing,
    check_schedule,
    check_env,
    check_firestore,
)


def run_rules(ctx: Context) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(ctx)]
