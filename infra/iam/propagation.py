"""``switchboard:iam:GrantPropagation``: wait until new IAM grants have taken effect.

IAM is eventually consistent. A grant the API has accepted usually takes effect within
2 minutes and can take up to 7 (Google, "Access change propagation",
https://cloud.google.com/iam/docs/access-change-propagation). ``depends_on`` orders the
calls, not the effect. Where GCP checks a grant at the moment it is first used, and a
failure there is not retried into success, the program waits:

- a Cloud Run revision (a 2nd-gen function's too) checks at creation that its identity
  can access the secret versions it reads, and the revision fails if not
  (terraform-provider-google #13786); the build account's reads likewise fail a build;
- Pub/Sub's first push to an agent needs the invoker's ``run.invoker`` grant and the
  Pub/Sub service agent's token-creator grant on the invoker; a push refused with 403 is
  retried with backoff and, after ``max_delivery_attempts``, dead-lettered.

The wait is a dynamic resource whose create sleeps. Its input is the ids of the grants it
follows: an IAM member's id changes when the grant is created or replaced, so the wait is
replaced (and waits again) exactly when one of its grants is new. A second ``pulumi up``
with the same grants waits for nothing; a change of the wait's length alone waits for
nothing either. In a preview nothing runs (the engine never calls create in a preview).

See docs/deploy-realities.md ("IAM propagation") for what the first deploy waits for.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.runtime import rpc

from infra.build.by_value import by_value

PROPAGATION_SECONDS = 120
"""How long a new grant is given to take effect: Google's "usually within 2 minutes".
The rare slower grant (up to 7 minutes) is covered by what follows the wait: a revision
that fails its secret check fails ``pulumi up`` (run it again), and a refused push is
retried by Pub/Sub's retry policy before it is dead-lettered."""
MAX_SECONDS = 600
MAX_GRANTS = 200
GRANTS = "grants"
SECONDS = "seconds"


def is_unknown(value: Any) -> bool:
    """The engine's unknown in either form a provider receives: the ``rpc.UNKNOWN`` string
    (mocks), or the ``pulumi.output.Unknown`` object the real host deserialises it into
    (``pulumi/dynamic/__main__.py``, ``keep_unknowns=True``)."""
    return value == rpc.UNKNOWN or rpc.contains_unknowns(value)


def _grant_ids(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


@by_value  # the host loads it from any directory (infra/build/by_value.py)
class GrantPropagationProvider(ResourceProvider):
    """Sleeps on create; replaced iff the set of grants it follows changes."""

    serialize_as_secret_always = False  # grant ids are not secret

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        grants, seconds = news.get(GRANTS), news.get(SECONDS)
        if not is_unknown(grants):
            if not isinstance(grants, list) or len(grants) > MAX_GRANTS:
                failures.append(CheckFailure(GRANTS, f"must be a list of at most {MAX_GRANTS}"))
            elif any(not (is_unknown(g) or (isinstance(g, str) and g)) for g in grants):
                failures.append(CheckFailure(GRANTS, "every grant id must be a non-empty string"))
        if not is_unknown(seconds) and (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds <= MAX_SECONDS
        ):
            failures.append(CheckFailure(SECONDS, f"must be a number of seconds, 0..{MAX_SECONDS}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new_grants = news.get(GRANTS)
        unknown = is_unknown(new_grants) or any(is_unknown(g) for g in _grant_ids(new_grants))
        # An unknown id is a grant being created or replaced in this deploy: wait again.
        regranted = unknown or sorted(_grant_ids(olds.get(GRANTS))) != sorted(
            _grant_ids(new_grants)
        )
        retimed = olds.get(SECONDS) != news.get(SECONDS)
        return DiffResult(
            changes=regranted or retimed,
            replaces=[GRANTS] if regranted else [],
            stables=[],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        grants = sorted(_grant_ids(props.get(GRANTS)))
        self._sleep(float(props.get(SECONDS) or 0))
        digest = hashlib.sha256("\n".join(grants).encode()).hexdigest()[:20]
        return CreateResult(f"propagated-{digest}", {GRANTS: grants, SECONDS: props.get(SECONDS)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # Nothing exists in the cloud: the wait's state is its own (a refresh keeps it).
        return ReadResult(id_, props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Only the length changed (diff replaces on new grants): nothing to wait for.
        return UpdateResult(
            {GRANTS: sorted(_grant_ids(news.get(GRANTS))), SECONDS: news.get(SECONDS)}
        )

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


@dataclass(frozen=True)
class GrantPropagationArgs:
    grants: Sequence[pulumi.CustomResource]
    """The grants to wait for (IAM member resources); their ids are the wait's input."""
    seconds: int = PROPAGATION_SECONDS


class GrantPropagation(pulumi.dynamic.Resource):
    """A wait after ``grants``: depend on it where a grant is checked at first use."""

    grants: pulumi.Output[list[str]]
    seconds: pulumi.Output[int]

    def __init__(
        self, name: str, args: GrantPropagationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not args.grants:
            raise ValueError(f"{name}: a propagation wait needs at least one grant")
        if not 0 <= args.seconds <= MAX_SECONDS:
            raise ValueError(f"{name}: seconds must be 0..{MAX_SECONDS}, not {args.seconds}")
        super().__init__(
            GrantPropagationProvider(),
            name,
            {GRANTS: [grant.id for grant in args.grants], SECONDS: args.seconds},
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=list(args.grants))
            ),
        )
