"""The KMS keys that wrap each stack's data key (``secretsprovider: gcpkms://...``)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from .settings import KeySettings

DAY = 86400
DESTROY_SCHEDULED_DAYS = 30


@dataclass(frozen=True)
class SecretsKeysArgs:
    project: str
    settings: KeySettings
    stacks: tuple[str, ...]
    kms_api: pulumi.Resource

    def __post_init__(self) -> None:
        if not self.stacks:
            raise ValueError("secrets keys: no stacks")


class SecretsKeys(pulumi.ComponentResource):
    """One key ring, and one symmetric key per stack (``<key>-<stack>``), rotated every
    ``rotationDays``: a stack's deployer can unwrap its own stack's data key only, so
    the dev deployer cannot read prod's config secrets from ``Pulumi.prod.yaml``.
    Protected (a key ring can never be deleted; a destroyed key loses every secret)."""

    key_ring: gcp.kms.KeyRing
    keys: dict[str, gcp.kms.CryptoKey]
    providers: dict[str, pulumi.Output[str]]
    """stack -> ``gcpkms://projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>``"""

    def __init__(
        self, name: str, args: SecretsKeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:bootstrap:SecretsKeys", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self, depends_on=[args.kms_api], protect=True)
        self.key_ring = gcp.kms.KeyRing(
            "pulumi-secrets",
            project=args.project,
            name=settings.key_ring,
            location=settings.location,
            opts=child,
        )
        self.keys = {
            stack: gcp.kms.CryptoKey(
                f"stack-secrets-{stack}",
                name=key_name(settings, stack),
                key_ring=self.key_ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=f"{settings.rotation_days * DAY}s",
                destroy_scheduled_duration=f"{DESTROY_SCHEDULED_DAYS * DAY}s",
                labels={"app": "switchboard", "stack": stack},
                opts=child,
            )
            for stack in args.stacks
        }
        self.providers = {
            stack: key.id.apply(lambda key_id: f"gcpkms://{key_id}")
            for stack, key in self.keys.items()
        }
        self.register_outputs({"providers": self.providers})


def key_name(settings: KeySettings, stack: str) -> str:
    return f"{settings.key}-{stack}"


def secrets_provider_url(project: str, settings: KeySettings, stack: str) -> str:
    """The URL a stack file's ``secretsprovider:`` carries, from configuration alone."""
    return (
        f"gcpkms://projects/{project}/locations/{settings.location}"
        f"/keyRings/{settings.key_ring}/cryptoKeys/{key_name(settings, stack)}"
    )
