"""Every dynamic resource the program registers, through the real provider host.

Preview: Check with each input unknown in turn, then all at once, with the provider
exactly as the program pickled it (the engine refuses a preview whose Check fails); Diff
of a stored state against inputs with each one unknown. Life: each provider's own cases
(cases.py) against its fakes, which must call every verb."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ResourceProvider
from pulumi.runtime.proto import provider_pb2

from infra.offline.mocks import Registration
from tests.infra.dynamic_host.cases import CASES, ProviderCases, pickled_by_reference
from tests.infra.dynamic_host.host import (
    PROVIDER_KEY,
    UNKNOWN,
    VERBS,
    DynamicHost,
    HostError,
    Unknown,
    dynamic_host,
    from_struct,
)
from tests.infra.test_program import rendered
from tools.render.normalise import provider_marker

DYNAMIC = "pulumi-python:dynamic:Resource"
STACKS = ("dev", "staging", "prod")


def dynamic_resources(stack: str) -> list[Registration]:
    return rendered(stack).of_type(DYNAMIC)


def cases_for(registration: Registration) -> tuple[str, ProviderCases | None]:
    """The provider class as the render names it (``[dynamic provider <class>]``)."""
    marker = provider_marker(registration.inputs.get(PROVIDER_KEY))
    name = marker.removeprefix("[dynamic provider").removesuffix("]").strip()
    return name or "(unreadable provider)", CASES.get(name)


class Stranger(ResourceProvider):
    """A provider the registry does not know."""


def program_inputs(registration: Registration, cases: ProviderCases) -> dict[str, Any]:
    """What the engine sends to Check: the registered inputs (the provider's pickle
    included), without the declared outputs (registered as None, so never sent)."""
    return {
        k: v for k, v in registration.inputs.items() if k not in cases.outputs and v is not None
    }


def urn_of(registration: Registration) -> str:
    return registration.urn


# Sorted: the mock engine registers resources in whatever order their inputs resolve, and
# a collection order that varies would differ between pytest-xdist's workers.
DEV_RESOURCES = [
    pytest.param(r, id=r.name) for r in sorted(dynamic_resources("dev"), key=lambda r: r.name)
]


@pytest.mark.parametrize("registration", DEV_RESOURCES)
def test_a_preview_check_accepts_any_input_unknown(
    registration: Registration, configured_host: DynamicHost
) -> None:
    name, cases = cases_for(registration)
    assert cases is not None, f"{name} has no harness cases (tests/infra/dynamic_host/cases.py)"
    inputs = program_inputs(registration, cases)
    names = [k for k in inputs if k != PROVIDER_KEY]
    assert names
    host = configured_host
    for unknown in [[n] for n in names] + [names]:
        news = inputs | dict.fromkeys(unknown, UNKNOWN)
        response = host.check(urn_of(registration), news)
        assert list(response.failures) == [], (unknown, response.failures)
        echoed = from_struct(response.inputs)
        assert all(isinstance(echoed[n], Unknown) for n in unknown)
    known = host.check(urn_of(registration), inputs)
    assert list(known.failures) == []


@pytest.mark.parametrize("registration", DEV_RESOURCES)
def test_a_preview_diff_against_a_stored_state_accepts_any_input_unknown(
    registration: Registration, configured_host: DynamicHost
) -> None:
    name, cases = cases_for(registration)
    assert cases is not None, name
    inputs = program_inputs(registration, cases)
    stored = cases.stored_outputs()
    olds = inputs | {k: stored[k] for k in cases.outputs}
    urn = urn_of(registration)
    host = configured_host
    same = host.diff(urn, "id-1", olds, inputs, inputs)
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    for unknown in [k for k in inputs if k != PROVIDER_KEY]:
        response = host.diff(urn, "id-1", olds, inputs | {unknown: UNKNOWN}, inputs)
        assert response.changes == provider_pb2.DiffResponse.DIFF_SOME, unknown


@pytest.mark.slow
@pytest.mark.parametrize("provider_class", sorted(CASES))
def test_each_provider_lives_through_the_real_host(provider_class: str, host_cwd: Path) -> None:
    cases = CASES[provider_class]
    with cases.world() as world, dynamic_host(host_cwd) as host:
        cases.lifecycle(host, world)
        missing = [verb for verb in VERBS if verb not in host.called]
    assert missing == [], f"{provider_class}: its cases never call {missing}"


def test_every_dynamic_provider_the_program_registers_has_cases() -> None:
    found = {cases_for(r)[0]: r.name for stack in STACKS for r in dynamic_resources(stack)}
    assert found, "the render has no dynamic resource: the harness would test nothing"
    missing = sorted(name for name in found if name not in CASES)
    assert missing == [], (
        f"dynamic providers without harness cases: {missing} (e.g. {found[missing[0]]}); "
        "add them to tests/infra/dynamic_host/cases.py"
        if missing
        else ""
    )


def test_a_provider_without_cases_is_caught() -> None:
    """The enumeration above reads the class from the pickle as the render does: a class
    the registry does not know has no cases; an old by-reference pickle of a known class
    still finds its cases."""
    registration = dynamic_resources("dev")[0]

    def with_provider(provider: ResourceProvider) -> Registration:
        inputs = registration.inputs | {PROVIDER_KEY: pickled_by_reference(provider)}
        return Registration(**{**vars(registration), "inputs": inputs})

    name, cases = cases_for(with_provider(Stranger()))
    assert (name, cases) == (f"{__name__}.Stranger", None)
    from infra.build.provider import ImageBuildProvider

    assert cases_for(with_provider(ImageBuildProvider()))[1] is not None


def test_a_provider_pickled_by_reference_fails_outside_the_repository(tmp_path: Path) -> None:
    """What every preview from another directory met before providers were pickled by
    value; proves the harness's working directory matters."""
    (registration,) = [r for r in dynamic_resources("dev") if r.name == "gateway-build"]
    _, cases = cases_for(registration)
    assert cases is not None
    from infra.build.provider import ImageBuildProvider

    inputs = program_inputs(registration, cases) | {
        PROVIDER_KEY: pickled_by_reference(ImageBuildProvider())
    }
    with dynamic_host(tmp_path) as host:
        host.configure()
        with pytest.raises(HostError, match="No module named 'infra'"):
            host.check(urn_of(registration), inputs)
