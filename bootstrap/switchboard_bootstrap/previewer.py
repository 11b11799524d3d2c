"""The read-only identity pull-request previews (`pulumi preview`) run as."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from .roles import (
    IMPERSONATION_ROLE,
    PREVIEWER_KEY_ROLE,
    PREVIEWER_ROLES,
    PREVIEWER_STATE_ROLE,
    STATE_LIST_ROLE,
)
from .state_access import metadata_condition, stack_objects_condition

ACCOUNT_ID = "sb-previewer"


@dataclass(frozen=True)
class PreviewerArgs:
    ops_project: str
    stack_projects: Mapping[str, str]
    """stack -> its project"""
    principal: pulumi.Input[str]
    """Pull-request jobs of this repository."""
    state_bucket: pulumi.Input[str]
    state_bucket_name: str
    key_ids: Mapping[str, pulumi.Input[str]]
    """stack -> its secrets key"""
    ops_apis: Mapping[str, pulumi.Resource]
    stack_apis: Mapping[str, Mapping[str, pulumi.Resource]]
    """stack -> its project's enabled APIs"""

    def __post_init__(self) -> None:
        if set(self.key_ids) != set(self.stack_projects):
            raise ValueError("previewer: every stack needs its key, and only those")
        if not self.stack_projects:
            raise ValueError("previewer: no stacks")


class Previewer(pulumi.ComponentResource):
    """``sb-previewer@<ops project>``: reads every stack's state and decrypts its config
    (a preview of prod needs prod's secrets: any branch of this repository can therefore
    read them; see docs/ci-cd.md), may look its projects up, and changes nothing."""

    account: gcp.serviceaccount.Account
    email: pulumi.Output[str]

    def __init__(
        self, name: str, args: PreviewerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:bootstrap:Previewer", name, None, opts)
        iam_api = args.ops_apis["iam.googleapis.com"]
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            project=args.ops_project,
            account_id=ACCOUNT_ID,
            display_name="Switchboard pull-request previews (read-only)",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[iam_api]),
        )
        self.email = self.account.email
        member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        gcp.serviceaccount.IAMMember(
            f"{name}-github",
            service_account_id=self.account.name,
            role=IMPERSONATION_ROLE,
            member=args.principal,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[iam_api]),
        )
        for stack, project in sorted(args.stack_projects.items()):
            crm_api = args.stack_apis[stack]["cloudresourcemanager.googleapis.com"]
            for role in PREVIEWER_ROLES:
                gcp.projects.IAMMember(
                    f"{name}-{stack}-{role.removeprefix('roles/').replace('.', '-')}",
                    project=project,
                    role=role,
                    member=member,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[crm_api]),
                )
            gcp.kms.CryptoKeyIAMMember(
                f"{name}-{stack}-secrets-key",
                crypto_key_id=args.key_ids[stack],
                role=PREVIEWER_KEY_ROLE,
                member=member,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[args.ops_apis["cloudkms.googleapis.com"]]
                ),
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
        stacks = tuple(sorted(args.stack_projects))
        gcp.storage.BucketIAMMember(
            f"{name}-state-objects",
            bucket=args.state_bucket,
            role=PREVIEWER_STATE_ROLE,
            member=member,
            condition={
                "title": "the stacks' state, read-only",
                "description": "State of the main program's stacks and the backend metadata",
                "expression": f"{stack_objects_condition(bucket, stacks)} || "
                f"{metadata_condition(bucket)}",
            },
            opts=storage,
        )
        self.register_outputs({"email": self.email})
