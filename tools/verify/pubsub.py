"""Pub/Sub checks: topics, agent subscriptions (filter, dead-letter policy, expiry, push
auth) and empty dead-letter subscriptions, peeked without acking."""

from __future__ import annotations

import warnings
from typing import Any

from google.api_core import exceptions

from infra.catalogue import Catalogue, Consumer, naming
from library.findings import Finding
from tools.verify.checks import result

PEEK_MAX = 10


def _topic(project: str, topic: str) -> str:
    return f"projects/{project}/topics/{topic}"


def _subscription(project: str, subscription: str) -> str:
    return f"projects/{project}/subscriptions/{subscription}"


def check_topics(catalogue: Catalogue, project: str, publisher: Any) -> list[Finding]:
    names = [*catalogue.topics, *(c.dead_letter_topic_id for c in catalogue.consumers())]
    findings = []
    for name in names:
        try:
            publisher.get_topic(request={"topic": _topic(project, name)})
            findings.append(result("topic exists", name, True))
        except exceptions.NotFound:
            findings.append(result("topic exists", name, False, "missing"))
    return findings


def compare_subscription(
    project: str, consumer: Consumer, actual: Any, require_push: bool
) -> list[str]:
    """What differs between a live subscription and the catalogue (pure, for tests)."""
    problems = []
    expected_topic = _topic(project, consumer.topic)
    if actual.topic != expected_topic:
        problems.append(f"topic is {actual.topic!r}, expected {expected_topic!r}")
    if actual.filter != consumer.effective_filter:
        problems.append(
            f"filter is {actual.filter!r}, expected {consumer.effective_filter!r} "
            "(filters are immutable: redeploy replaces the subscription)"
        )
    policy = actual.dead_letter_policy
    expected_dlq = _topic(project, consumer.dead_letter_topic_id)
    if not policy or policy.dead_letter_topic != expected_dlq:
        got = policy.dead_letter_topic if policy else None
        problems.append(f"dead-letter topic is {got!r}, expected {expected_dlq!r}")
    elif policy.max_delivery_attempts != consumer.spec.max_delivery_attempts:
        problems.append(
            f"max delivery attempts {policy.max_delivery_attempts}, expected "
            f"{consumer.spec.max_delivery_attempts}"
        )
    ttl = actual.expiration_policy.ttl if actual.expiration_policy else None
    if ttl is not None and ttl.total_seconds() > 0:
        problems.append(f"expires after {ttl} of inactivity (expected never)")
    if require_push:
        push = actual.push_config
        invoker = (
            f"{naming.invoker_account_id(consumer.agent.name)}@{project}.iam.gserviceaccount.com"
        )
        if not push or not push.push_endpoint:
            problems.append("no push endpoint")
        elif push.oidc_token.service_account_email != invoker:
            problems.append(
                f"push OIDC identity is {push.oidc_token.service_account_email!r}, "
                f"expected {invoker!r}"
            )
    return problems


def check_subscriptions(
    catalogue: Catalogue, project: str, subscriber: Any, require_push: bool = True
) -> list[Finding]:
    findings = []
    for consumer in catalogue.consumers():
        name = consumer.subscription_id
        try:
            actual = subscriber.get_subscription(
                request={"subscription": _subscription(project, name)}
            )
        except exceptions.NotFound:
            findings.append(result("subscription matches", name, False, "missing"))
            continue
        problems = compare_subscription(project, consumer, actual, require_push)
        findings.append(result("subscription matches", name, not problems, "; ".join(problems)))
    return findings


def peek(subscriber: Any, subscription: str, max_messages: int = PEEK_MAX) -> int:
    """How many messages a pull returns right now; they are released again (nacked:
    ack deadline 0), never acked, so nothing is lost by looking."""
    with warnings.catch_warnings():
        # return_immediately is deprecated (a live pull may come back empty while messages
        # are in flight elsewhere), but it is the only non-blocking peek the emulator has.
        warnings.simplefilter("ignore", DeprecationWarning)
        response = subscriber.pull(
            request={
                "subscription": subscription,
                "max_messages": max_messages,
                "return_immediately": True,
            },
            timeout=10,
        )
    ack_ids = [m.ack_id for m in response.received_messages]
    if ack_ids:
        subscriber.modify_ack_deadline(
            request={"subscription": subscription, "ack_ids": ack_ids, "ack_deadline_seconds": 0}
        )
    return len(ack_ids)


def check_dead_letters(catalogue: Catalogue, project: str, subscriber: Any) -> list[Finding]:
    findings = []
    for consumer in catalogue.consumers():
        name = consumer.dead_letter_subscription_id
        path = _subscription(project, name)
        try:
            waiting = peek(subscriber, path)
        except exceptions.NotFound:
            findings.append(result("dead letters empty", name, False, "subscription missing"))
            continue
        message = (
            f"{waiting}{'+' if waiting >= PEEK_MAX else ''} message(s) waiting: inspect and "
            "redrive with `python -m tools.deadletters`"
            if waiting
            else ""
        )
        findings.append(result("dead letters empty", name, waiting == 0, message))
    return findings
