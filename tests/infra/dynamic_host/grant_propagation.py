"""The grant-propagation wait (infra/iam) through the real host. It talks to no API, so
its world is empty; its life: a first up waits, a second up with the same grants (another
run's pickle, the grants in another order) is no change, a new grant replaces it (waits
again), a new length alone is an update without a wait, refresh keeps it, delete forgets
it."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from pulumi.runtime.proto import provider_pb2

from infra.iam.propagation import GRANTS, SECONDS, GrantPropagationProvider
from tests.infra.dynamic_host.cases import ProviderCases, pickled, pickled_by_another_run
from tests.infra.dynamic_host.host import PROVIDER_KEY, DynamicHost

URN = (
    "urn:pulumi:dev::switchboard::switchboard:agent:Agent"
    "$pulumi-python:dynamic:Resource::billing-push-grants-propagated"
)
GRANT_A = "projects/p/locations/europe-west1/services/billing roles/run.invoker serviceAccount:i"
GRANT_B = "projects/p/serviceAccounts/i roles/iam.serviceAccountTokenCreator serviceAccount:s"
WAIT = 1
DIFF_NONE = provider_pb2.DiffResponse.DIFF_NONE
DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME


def stored_outputs() -> dict[str, Any]:
    return {GRANTS: sorted([GRANT_A, GRANT_B]), SECONDS: WAIT}


def lifecycle(host: DynamicHost, _world: Any) -> None:
    inputs = {GRANTS: [GRANT_A, GRANT_B], SECONDS: WAIT}
    inputs[PROVIDER_KEY] = pickled(GrantPropagationProvider())
    host.configure()
    assert list(host.check(URN, inputs).failures) == []
    bad = host.check(URN, inputs | {SECONDS: 10_000})
    assert [f.property for f in bad.failures] == [SECONDS]

    started = time.monotonic()
    wait_id, outputs = host.create(URN, inputs)
    assert time.monotonic() - started >= WAIT  # it waited, in the host
    assert outputs[GRANTS] == sorted([GRANT_A, GRANT_B])

    again = pickled_by_another_run(
        "from infra.iam.propagation import GrantPropagationProvider",
        "GrantPropagationProvider()",
    )
    second = {GRANTS: [GRANT_B, GRANT_A], SECONDS: WAIT, PROVIDER_KEY: again}
    assert again != inputs[PROVIDER_KEY]
    unchanged = host.diff(URN, wait_id, outputs, second, inputs)
    assert (unchanged.changes, list(unchanged.replaces)) == (DIFF_NONE, [])

    regranted = second | {GRANTS: [GRANT_A, GRANT_B, "projects/p roles/x serviceAccount:new"]}
    replaced = host.diff(URN, wait_id, outputs, regranted, inputs)
    assert (replaced.changes, list(replaced.replaces)) == (DIFF_SOME, [GRANTS])

    shorter = second | {SECONDS: 0}
    retimed = host.diff(URN, wait_id, outputs, shorter, inputs)
    assert (retimed.changes, list(retimed.replaces)) == (DIFF_SOME, [])
    started = time.monotonic()
    updated = host.update(URN, wait_id, outputs, shorter, inputs)
    assert time.monotonic() - started < WAIT  # an update never waits
    assert updated[SECONDS] == 0

    kept_id, kept = host.read(URN, wait_id, updated, shorter)
    assert (kept_id, kept[GRANTS]) == (wait_id, updated[GRANTS])
    host.delete(URN, wait_id, updated, shorter)


CASES = ProviderCases(
    outputs=(), world=nullcontext, lifecycle=lifecycle, stored_outputs=stored_outputs
)
