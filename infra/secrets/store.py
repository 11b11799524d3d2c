"""Secret Manager secrets for the third-party credentials the catalogue declares.

Each secret an agent reads has a value source the stack names (``switchboard:secrets``,
see :class:`infra.settings.SecretSource`):

- ``config``: this component declares the secret and a ``SecretVersion`` from the stack's
  encrypted config ``switchboard:secret-<name>``. Readers pin that version's number and
  wait for it, so a revision never starts before its secret has a value, and a new value
  (``pulumi config set --secret``) rolls a new revision.
- ``external:<N>``: the secret and its versions live outside Pulumi (created with
  ``gcloud``); in an update (not a preview) :func:`check_external_secrets` proves version N
  exists before anything is declared, and readers pin N.

A value never appears in the repository, a plain env var, or the rendered manifest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.catalogue import SecretSpec
from infra.settings import (
    NAMESPACE,
    SECRET_EXTERNAL,
    SECRET_FROM_CONFIG,
    SECRET_VALUE_PREFIX,
    ExternalSecretMissingError,
    SecretSource,
    StackSettings,
    external_secret_problem,
)


@dataclass(frozen=True)
class SecretRef:
    """What a reader needs: the secret's id, the version it pins, what to wait for."""

    name: str
    secret_id: pulumi.Input[str]
    version: pulumi.Input[str] | None
    """None only for a secret no agent reads (it has no value source)."""
    wait_for: tuple[pulumi.Resource, ...] = ()
    """The resources that must exist before a reader starts (the config-sourced version)."""


@dataclass(frozen=True)
class SecretStoreArgs:
    project: str
    secrets: Mapping[str, SecretSpec]
    sources: Mapping[str, SecretSource] = field(default_factory=dict)
    protect: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()


class SecretStore(pulumi.ComponentResource):
    secrets: dict[str, SecretRef]
    managed: dict[str, gcp.secretmanager.Secret]
    """The secrets this stack declares (every source but ``external``)."""

    def __init__(
        self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:secrets:SecretStore", name, None, opts)
        config = pulumi.Config(NAMESPACE)
        self.secrets = {}
        self.managed = {}
        for secret_name in sorted(args.secrets):
            source = args.sources.get(secret_name)
            if source is not None and source.kind == SECRET_EXTERNAL:
                self.secrets[secret_name] = SecretRef(secret_name, secret_name, source.version)
                continue
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
                    # Dropped from the program (moved to external:N, or the stack
                    # destroyed), a secret and its versions stay in Secret Manager: a
                    # credential is never deleted as a side effect of a change of source.
                    retain_on_delete=True,
                    depends_on=list(args.depends_on),
                ),
            )
            self.managed[secret_name] = secret
            if source is None:
                self.secrets[secret_name] = SecretRef(secret_name, secret.secret_id, None)
                continue
            assert source.kind == SECRET_FROM_CONFIG
            version = gcp.secretmanager.SecretVersion(
                f"{secret_name}-from-config",
                secret=secret.id,
                secret_data=config.require_secret(f"{SECRET_VALUE_PREFIX}{secret_name}"),
                opts=pulumi.ResourceOptions(parent=secret, retain_on_delete=True),
            )
            self.secrets[secret_name] = SecretRef(
                secret_name, secret.secret_id, version.version, (version,)
            )
        self.register_outputs({"secrets": {n: s.id for n, s in self.managed.items()}})


EXTERNAL_CHECK_SKIPPED = (
    "preview: external secret versions are not read in a preview (the previewer may not "
    "read Secret Manager); `pulumi up` checks them before it declares anything"
)


def check_external_secrets(settings: StackSettings, readers: Mapping[str, list[str]]) -> None:
    """Before anything is declared in an update: every ``external:<N>`` version exists.

    Reads metadata only (``fetch_secret_data=False``: one GET of the version,
    ``secretmanager.versions.get``, in ``roles/secretmanager.viewer``; never
    ``versions.access``). Not in a preview: a program-time read runs as whoever runs the
    program, and the pull-request previewer has no Secret Manager role in the stack
    projects (a 403 there read as "versions missing"). The update phase of the same
    ``pulumi up`` runs this before its first resource, as the deployer, so a missing
    version still stops the deploy before any change. Sources: Secret Manager access
    control, https://cloud.google.com/secret-manager/docs/access-control (viewer holds
    ``secretmanager.versions.get``, only ``secretAccessor``/admin hold ``versions.access``);
    terraform-provider-google ``data_source_secret_manager_secret_version.go`` (one GET of
    ``.../versions/N``, ``:access`` only when ``fetch_secret_data``). The previewer's
    roles are derived from what the program reads at preview (bootstrap/.../roles.py).

    What this can tell: the version exists, and whether it was destroyed (the data source
    copies ``destroyTime``). What it cannot: a *disabled* version. The provider answers
    ``enabled = true`` for any version it finds, whatever its state, so a disabled pinned
    version passes here and the revision that reads it fails to start.
    """
    if pulumi.runtime.is_dry_run():
        if any(source.kind == SECRET_EXTERNAL for source in settings.secrets.values()):
            pulumi.log.info(EXTERNAL_CHECK_SKIPPED)
        return
    problems: list[str] = []
    for name, source in sorted(settings.secrets.items()):
        if source.kind != SECRET_EXTERNAL:
            continue
        try:
            found = gcp.secretmanager.get_secret_version(
                project=settings.project,
                secret=name,
                version=source.version,
                fetch_secret_data=False,
            )
        except Exception as error:  # the provider's error: 404, 403, API disabled
            why = str(error).strip().splitlines()[0][:300] if str(error).strip() else "not found"
            problems.append(
                external_secret_problem(
                    settings, name, readers.get(name, []), f"cannot be read ({why})"
                )
            )
            continue
        if found.destroy_time:
            problems.append(
                external_secret_problem(
                    settings,
                    name,
                    readers.get(name, []),
                    f"version {source.version} was destroyed ({found.destroy_time})",
                )
            )
    if problems:
        raise ExternalSecretMissingError(
            f"stack {settings.stack!r}: external secret versions missing in project "
            f"{settings.project}:\n" + "\n".join(problems)
        )
