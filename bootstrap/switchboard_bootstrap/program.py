"""The bootstrap program: settings -> APIs, state bucket, keys, federation, identities.

``__main__.py`` calls :func:`main`; tests call :func:`build` with settings they parse
themselves, under Pulumi's mocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from .apis import OPS_APIS, STACK_PROJECT_APIS, ProjectApis, ProjectApisArgs
from .deployer import Deployer, DeployerArgs
from .identity import GitHubFederation, GitHubFederationArgs
from .previewer import Previewer, PreviewerArgs
from .roles import deployer_roles
from .secrets_keys import SecretsKeys, SecretsKeysArgs
from .settings import NAMESPACE, PROJECT_KEY, BootstrapError, BootstrapSettings, parse_settings
from .state_bucket import StateBucket, StateBucketArgs


@dataclass
class Bootstrap:
    """Handles on what :func:`build` declared, for outputs and tests."""

    ops_apis: ProjectApis
    stack_apis: dict[str, ProjectApis]
    state: StateBucket
    keys: SecretsKeys
    federation: GitHubFederation
    deployers: dict[str, Deployer]
    previewer: Previewer | None


def read_settings() -> BootstrapSettings:
    """Settings from the running stack's configuration."""
    from pulumi.runtime.config import CONFIG

    values: dict[str, Any] = {
        key: value
        for key, value in CONFIG.get().items()
        if key == PROJECT_KEY or key.startswith(f"{NAMESPACE}:")
    }
    return parse_settings(pulumi.get_stack(), values)


def build(settings: BootstrapSettings) -> Bootstrap:
    """Declare every resource. Validation happened in :func:`parse_settings`."""
    ops = settings.ops_project
    stacks = tuple(settings.stacks)
    ops_apis = ProjectApis("ops", ProjectApisArgs(project=ops, apis=OPS_APIS))
    stack_apis = {
        stack: ProjectApis(
            f"{stack}-project", ProjectApisArgs(project=target.project, apis=STACK_PROJECT_APIS)
        )
        for stack, target in settings.stacks.items()
    }
    state = StateBucket(
        "state",
        StateBucketArgs(
            project=ops,
            name=settings.state_bucket,
            settings=settings.state,
            storage_api=ops_apis["storage.googleapis.com"],
        ),
    )
    keys = SecretsKeys(
        "secrets",
        SecretsKeysArgs(
            project=ops,
            settings=settings.kms,
            stacks=stacks,
            kms_api=ops_apis["cloudkms.googleapis.com"],
        ),
    )
    federation = GitHubFederation(
        "github",
        GitHubFederationArgs(
            project=ops,
            pool_id=settings.pool_id,
            provider_id=settings.provider_id,
            repository=settings.github_repository,
            repository_id=settings.github_repository_id,
            environments=[t.environment for t in settings.stacks.values()],
            deploy_branch=settings.deploy_branch,
            allow_pull_requests=settings.previewer,
            iam_api=ops_apis["iam.googleapis.com"],
        ),
    )
    roles = deployer_roles()
    deployers = {
        stack: Deployer(
            f"{stack}-deployer",
            DeployerArgs(
                stack=stack,
                project=target.project,
                roles=roles,
                principal=federation.environment_principal(target.environment),
                state_bucket=state.bucket.name,
                state_bucket_name=settings.state_bucket,
                key_id=keys.keys[stack].id,
                project_apis=stack_apis[stack].apis,
                ops_apis=ops_apis.apis,
            ),
        )
        for stack, target in settings.stacks.items()
    }
    previewer = None
    if settings.previewer:
        previewer = Previewer(
            "previewer",
            PreviewerArgs(
                ops_project=ops,
                stack_projects={s: t.project for s, t in settings.stacks.items()},
                principal=federation.pull_request_principal(),
                state_bucket=state.bucket.name,
                state_bucket_name=settings.state_bucket,
                key_ids={s: k.id for s, k in keys.keys.items()},
                ops_apis=ops_apis.apis,
                stack_apis={s: a.apis for s, a in stack_apis.items()},
            ),
        )
    return Bootstrap(ops_apis, stack_apis, state, keys, federation, deployers, previewer)


def export_outputs(bootstrap: Bootstrap) -> None:
    """What `pulumi login`, the stack files and the GitHub variables need."""
    pulumi.export("state_bucket_url", bootstrap.state.url)
    pulumi.export("secrets_providers", bootstrap.keys.providers)
    pulumi.export("workload_identity_provider", bootstrap.federation.provider_name)
    pulumi.export("deployer_service_accounts", {s: d.email for s, d in bootstrap.deployers.items()})
    if bootstrap.previewer is not None:
        pulumi.export("previewer_service_account", bootstrap.previewer.email)


def run() -> Bootstrap:
    settings = read_settings()
    bootstrap = build(settings)
    export_outputs(bootstrap)
    return bootstrap


def main() -> None:
    """The program ``pulumi up`` runs: a configuration mistake ends it with the message
    alone (``pulumi.RunError`` prints no traceback)."""
    try:
        run()
    except BootstrapError as error:
        raise pulumi.RunError(str(error)) from None
