"""One stack's deployer: the service account CI impersonates to `pulumi up` that stack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from .roles import (
    IMPERSONATION_ROLE,
    KEY_ROLE,
    PRIMITIVE_ROLES,
    STATE_BUCKET_ROLE,
    STATE_LIST_ROLE,
)
from .state_access import metadata_condition, stack_objects_condition

ACCOUNT_ID = "sb-deployer"
METADATA_ROLE = "roles/storage.objectViewer"


@dataclass(frozen=True)
class DeployerArgs:
    stack: str
    project: str
    """The stack's own project: the account lives there, and its roles apply there."""
    roles: Sequence[str]
    principal: pulumi.Input[str]
    """Who may impersonate it: the stack's GitHub environment of this repository."""
    state_bucket: pulumi.Input[str]
    state_bucket_name: str
    key_id: pulumi.Input[str]
    project_apis: Mapping[str, pulumi.Resource]
    """The stack project's enabled APIs, by name."""
    ops_apis: Mapping[str, pulumi.Resource]

    def __post_init__(self) -> None:
        if not self.roles:
            raise ValueError(f"deployer {self.stack}: no roles")
        if primitive := sorted(set(self.roles) & PRIMITIVE_ROLES):
            raise ValueError(f"deployer {self.stack}: primitive roles {primitive} are refused")
        if len(set(self.roles)) != len(self.roles):
            raise ValueError(f"deployer {self.stack}: a role is listed twice")


class Deployer(pulumi.ComponentResource):
    """``sb-deployer@<stack project>``: the stack's predefined roles in its own project,
    its own stack's objects in the state bucket, its own stack's KMS key, and
    impersonation by the stack's GitHub environment only."""

    account: gcp.serviceaccount.Account
    email: pulumi.Output[str]

    def __init__(
        self, name: str, args: DeployerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:bootstrap:Deployer", name, None, opts)
        iam_api = args.project_apis["iam.googleapis.com"]
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            project=args.project,
            account_id=ACCOUNT_ID,
            display_name=f"Switchboard deployer ({args.stack})",
            description=f"CI's `pulumi up` of stack {args.stack}; impersonated via WIF only",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[iam_api]),
        )
        self.email = self.account.email
        member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        crm_api = args.project_apis["cloudresourcemanager.googleapis.com"]
        for role in args.roles:
            gcp.projects.IAMMember(
                f"{name}-{role.removeprefix('roles/').replace('.', '-')}",
                project=args.project,
                role=role,
                member=member,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[crm_api]),
            )
        gcp.serviceaccount.IAMMember(
            f"{name}-github",
            service_account_id=self.account.name,
            role=IMPERSONATION_ROLE,
            member=args.principal,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[iam_api]),
        )
        storage = pulumi.ResourceOptions(
            parent=self, depends_on=[args.ops_apis["storage.googleapis.com"]]
        )
        bucket = args.state_bucket_name
        gcp.storage.BucketIAMMember(
            f"{name}-state-list",
            bucket=args.state_bucket,
            role=STATE_LIST_ROLE,
            member=member,
            opts=storage,
        )
        gcp.storage.BucketIAMMember(
            f"{name}-state-objects",
            bucket=args.state_bucket,
            role=STATE_BUCKET_ROLE,
            member=member,
            condition={
                "title": f"{args.stack} state only",
                "description": f"State, history, backups and locks of stack {args.stack}",
                "expression": stack_objects_condition(bucket, (args.stack,)),
            },
            opts=storage,
        )
        gcp.storage.BucketIAMMember(
            f"{name}-state-metadata",
            bucket=args.state_bucket,
            role=METADATA_ROLE,
            member=member,
            condition={
                "title": "backend metadata",
                "description": "The bucket backend's .pulumi/meta.yaml, read-only",
                "expression": metadata_condition(bucket),
            },
            opts=storage,
        )
        gcp.kms.CryptoKeyIAMMember(
            f"{name}-secrets-key",
            crypto_key_id=args.key_id,
            role=KEY_ROLE,
            member=member,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[args.ops_apis["cloudkms.googleapis.com"]]
            ),
        )
        self.register_outputs({"email": self.email})
