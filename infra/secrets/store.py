"""Secret Manager secrets for the third-party credentials the catalogue declares.

Values are added out of band (``gcloud secrets versions add``) or, when a stack sets
``switchboard:secret-<name>`` as a Pulumi config *secret*, from that value. A value never
appears in the repository, a plain env var, or the rendered manifest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.catalogue import SecretSpec
from infra.settings import NAMESPACE, SECRET_VALUE_PREFIX


@dataclass(frozen=True)
class SecretStoreArgs:
    project: str
    secrets: Mapping[str, SecretSpec]
    values_from_config: Sequence[str] = ()
    protect: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()


class SecretStore(pulumi.ComponentResource):
    secrets: dict[str, gcp.secretmanager.Secret]

    def __init__(
        self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:secrets:SecretStore", name, None, opts)
        config = pulumi.Config(NAMESPACE)
        self.secrets = {}
        for secret_name in sorted(args.secrets):
            secret = gcp.secretmanager.Secret(
                secret_name,
                project=args.project,
                secret_id=secret_name,
                replication={"auto": {}},
                labels=dict(args.labels),
                annotations={"description": args.secrets[secret_name].description[:250]},
                deletion_protection=args.protect,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    protect=args.protect,
                    delete_before_replace=True,
                    depends_on=list(args.depends_on),
                ),
            )
            self.secrets[secret_name] = secret
            if secret_name in args.values_from_config:
                gcp.secretmanager.SecretVersion(
                    f"{secret_name}-from-config",
                    secret=secret.id,
                    secret_data=config.require_secret(f"{SECRET_VALUE_PREFIX}{secret_name}"),
                    opts=pulumi.ResourceOptions(parent=secret),
                )
        self.register_outputs({"secrets": {n: s.id for n, s in self.secrets.items()}})
