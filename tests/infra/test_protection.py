"""Prod protects every stateful resource from deletion; dev protects none."""

from __future__ import annotations

from tests.infra.test_program import rendered

STATEFUL = (
    "gcp:firestore/database:Database",
    "gcp:storage/bucket:Bucket",
    "gcp:secretmanager/secret:Secret",
)


def test_prod_protects_all_stateful_resources_and_dev_none() -> None:
    prod, dev = rendered("prod"), rendered("dev")
    prod_stateful = [r for r in prod.registrations if r.type in STATEFUL]
    assert {r.name for r in prod_stateful} >= {
        "firestore",
        "agent-sources",
        "firestore-exports",
        "deploy-snapshots",
    }
    for r in prod_stateful:
        assert r.protect, r.name
    for r in prod.of_type("gcp:storage/bucket:Bucket"):
        assert r.inputs["forceDestroy"] is False, r.name
    assert not any(r.protect for r in dev.registrations)
