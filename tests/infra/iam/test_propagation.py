"""The grant-propagation wait: accepts what a preview sends, waits only for new grants."""

from __future__ import annotations

import pytest
from pulumi.output import UNKNOWN as UNKNOWN_OBJECT
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_STRING

from infra.iam.propagation import GRANTS, MAX_SECONDS, SECONDS, GrantPropagationProvider

GRANT_A = "projects/p/roles/datastore.user/serviceAccount:a@p.iam.gserviceaccount.com"
GRANT_B = "p/topics/bookings/roles/pubsub.publisher/serviceAccount:a@p.iam.gserviceaccount.com"


def provider(slept: list[float] | None = None) -> GrantPropagationProvider:
    return GrantPropagationProvider(sleep=(slept if slept is not None else []).append)


@pytest.mark.parametrize("unknown", [UNKNOWN_OBJECT, UNKNOWN_STRING], ids=["object", "string"])
@pytest.mark.parametrize(
    "news",
    [
        lambda u: {GRANTS: u, SECONDS: 120},
        lambda u: {GRANTS: [GRANT_A, u], SECONDS: 120},
        lambda u: {GRANTS: [GRANT_A], SECONDS: u},
        lambda u: {GRANTS: u, SECONDS: u},
    ],
    ids=["grants", "one-grant", "seconds", "all"],
)
def test_a_preview_with_any_input_unknown_passes_check(unknown: object, news: object) -> None:
    inputs = news(unknown)  # type: ignore[operator]
    assert provider().check({}, inputs).failures == []


@pytest.mark.parametrize(
    ("news", "field"),
    [
        ({GRANTS: "x", SECONDS: 1}, GRANTS),
        ({GRANTS: [""], SECONDS: 1}, GRANTS),
        ({GRANTS: [GRANT_A], SECONDS: MAX_SECONDS + 1}, SECONDS),
        ({GRANTS: [GRANT_A], SECONDS: True}, SECONDS),
        ({GRANTS: [GRANT_A], SECONDS: "120"}, SECONDS),
    ],
)
def test_bad_inputs_fail_check_naming_the_input(news: dict[str, object], field: str) -> None:
    failures = provider().check({}, news).failures
    assert [f.property for f in failures] == [field]


def test_the_same_grants_in_another_order_are_no_change() -> None:
    olds = {GRANTS: [GRANT_A, GRANT_B], SECONDS: 120}
    result = provider().diff("id", olds, {GRANTS: [GRANT_B, GRANT_A], SECONDS: 120})
    assert (result.changes, result.replaces) == (False, [])


@pytest.mark.parametrize(
    "new_grants",
    [[GRANT_A], [GRANT_A, GRANT_B, "x"], [GRANT_A, UNKNOWN_OBJECT], UNKNOWN_OBJECT],
    ids=["removed", "added", "one-being-replaced", "all-unknown"],
)
def test_a_new_or_replaced_grant_waits_again(new_grants: object) -> None:
    olds = {GRANTS: [GRANT_A, GRANT_B], SECONDS: 120}
    result = provider().diff("id", olds, {GRANTS: new_grants, SECONDS: 120})
    assert result.changes and result.replaces == [GRANTS]


def test_a_new_length_alone_updates_without_waiting() -> None:
    slept: list[float] = []
    olds = {GRANTS: [GRANT_A], SECONDS: 120}
    news = {GRANTS: [GRANT_A], SECONDS: 60}
    result = provider(slept).diff("id", olds, news)
    assert result.changes and result.replaces == []
    assert provider(slept).update("id", olds, news).outs == news
    assert slept == []


def test_create_waits_the_given_seconds_and_names_the_grants() -> None:
    slept: list[float] = []
    created = provider(slept).create({GRANTS: [GRANT_B, GRANT_A], SECONDS: 120})
    assert slept == [120.0]
    assert created.outs == {GRANTS: sorted([GRANT_A, GRANT_B]), SECONDS: 120}
    again = provider().create({GRANTS: [GRANT_A, GRANT_B], SECONDS: 0})
    assert created.id == again.id  # the id follows the grants, not the order or the length
