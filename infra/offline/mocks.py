"""Pulumi mocks that answer like GCP would, and a monitor that records every registration.

:class:`GcpMocks` fills in the outputs GCP computes (service-account emails, topic ids,
service URLs, the Pub/Sub service agent), so the program's ``Output`` plumbing (push
endpoints, OIDC audiences, IAM members) resolves exactly as it would in a real preview.
:class:`RecordingMonitor` keeps each RegisterResource request: type, name, parent,
dependencies, resource options and inputs, and each Invoke request (a data source the
program reads: token and arguments), for tests and the offline render.

Preview mode (``GcpMocks(preview=True)``, with ``set_mocks(..., preview=True)``) answers
as the engine does in a first ``pulumi preview``: a resource to be created has no id yet
and only its inputs come back, so every output the cloud computes (an account's email, a
topic's id, a service's URL, a build's digest) is unknown, and so is everything the
program derives from it. The SDK resolves a property the answer lacks as unknown when
``dry_run`` is set (pulumi/runtime/rpc.py ``resolve_properties``), and an empty id as
unknown (pulumi/runtime/resource.py ``register_resource``). Invokes still answer: the
engine runs data sources in a preview too, as the identity running it.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

import dill
import pulumi
from pulumi.dynamic.dynamic import PROVIDER_KEY
from pulumi.runtime import MockCallArgs, MockResourceArgs, rpc
from pulumi.runtime.mocks import MockMonitor

from infra.build.image import RESOURCE_TYPE as DYNAMIC_TYPE  # every dynamic resource's
from infra.build.spec import BuildSpec
from library import gcp_types

FAKE_PROJECT_NUMBER = "123456789012"


class DynamicCheckFailedError(Exception):
    """A dynamic provider's ``check`` refused its inputs: the engine stops the preview or
    update ("One or more resource validation errors occurred; refusing to proceed")."""


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:10]


def _plain(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value


class GcpMocks(pulumi.runtime.Mocks):
    """Computed outputs per resource type, keyed by Pulumi type token.

    ``secret_versions``: the Secret Manager versions that exist out of band, as
    ``{secret: {version: state}}`` (``ENABLED``, ``DISABLED`` or ``DESTROYED``); None (the
    default) answers that every asked-for version exists and is enabled. The answer is the
    provider's: ``enabled`` is true for any version that exists, whatever its state, and a
    destroyed version carries ``destroyTime`` (terraform-provider-google
    ``data_source_secret_manager_secret_version.go`` sets ``enabled`` to true
    unconditionally and copies ``destroyTime``).
    """

    def __init__(
        self, secret_versions: dict[str, dict[str, str]] | None = None, *, preview: bool = False
    ) -> None:
        super().__init__()
        self.secret_versions = secret_versions
        self.preview = preview

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == DYNAMIC_TYPE:
            dynamic_check(args.name, dict(args.inputs))
        if self.preview and not args.resource_id:
            # A create in a preview: no id, only the inputs (see the module docstring).
            return "", dict(args.inputs)
        return self._created(args)

    def _created(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:  # noqa: PLR0911
        """What a create answers in an update: the inputs and what GCP computes."""
        if args.typ == DYNAMIC_TYPE and "image_name" in args.inputs:  # an image build
            return built_image(dict(args.inputs))
        inputs = dict(args.inputs)
        project = _plain(inputs.get("project")) or "mock-project"
        region = _plain(inputs.get("location") or inputs.get("region")) or "europe-west1"
        name = _plain(inputs.get("name")) or args.name
        state = dict(inputs)
        typ = args.typ
        if typ == gcp_types.SERVICE_ACCOUNT:
            email = f"{inputs['accountId']}@{project}.iam.gserviceaccount.com"
            state.update(
                email=email,
                name=f"projects/{project}/serviceAccounts/{email}",
                member=f"serviceAccount:{email}",
                uniqueId=_short_hash(email),
            )
            return state["name"], state
        if typ == gcp_types.PUBSUB_TOPIC:
            resource_id = f"projects/{project}/topics/{name}"
            return resource_id, state | {"name": name}
        if typ == gcp_types.PUBSUB_SUBSCRIPTION:
            resource_id = f"projects/{project}/subscriptions/{name}"
            return resource_id, state | {"name": name}
        if typ == gcp_types.PROJECT_SERVICE_IDENTITY:
            service = str(inputs.get("service", "")).split(".")[0]
            email = f"service-{FAKE_PROJECT_NUMBER}@gcp-sa-{service}.iam.gserviceaccount.com"
            state.update(email=email, member=f"serviceAccount:{email}")
            return f"projects/{project}/services/{inputs.get('service')}", state
        if typ == gcp_types.CLOUD_FUNCTION:
            uri = f"https://{name}-{_short_hash(project, name)}-ew.a.run.app"
            service_config = dict(inputs.get("serviceConfig") or {})
            service_config.update(
                uri=uri, service=f"projects/{project}/locations/{region}/services/{name}"
            )
            state.update(serviceConfig=service_config, url=uri, state="ACTIVE")
            return f"projects/{project}/locations/{region}/functions/{name}", state
        if typ == gcp_types.CLOUD_RUN_SERVICE:
            uri = f"https://{name}-{_short_hash(project, name)}-ew.a.run.app"
            state.update(uri=uri, urls=[uri])
            return f"projects/{project}/locations/{region}/services/{name}", state
        if typ == gcp_types.SECRET:
            secret_id = inputs.get("secretId")
            state.update(name=f"projects/{FAKE_PROJECT_NUMBER}/secrets/{secret_id}")
            return f"projects/{project}/secrets/{secret_id}", state
        if typ == gcp_types.SECRET_VERSION:
            # A new value is a new version: derive its number's stand-in from the value, so
            # a rotation shows in the render of every workload that pins it.
            data = str(_plain(inputs.get("secretData")))
            version = str(int(hashlib.sha256(data.encode()).hexdigest()[:6], 16))
            state.update(version=version, enabled=True)
            return f"{inputs.get('secret')}/versions/{version}", state
        if typ == gcp_types.STORAGE_BUCKET:
            state.update(
                url=f"gs://{name}", selfLink=f"https://www.googleapis.com/storage/v1/b/{name}"
            )
            return name, state
        if typ == gcp_types.ARTIFACT_REPOSITORY:
            repository_id = inputs.get("repositoryId")
            resource_id = f"projects/{project}/locations/{region}/repositories/{repository_id}"
            state.update(name=repository_id)
            return resource_id, state
        return self._observability(typ, args.name, project, name, state)

    def _observability(  # noqa: PLR0911 - one return per resource family
        self, typ: str, resource_name: str, project: str, name: str, state: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Firestore, monitoring, logging, billing and network resources."""
        if typ == gcp_types.FIRESTORE_DATABASE:
            state.update(uid=_short_hash(project, name), etag="mock")
            return f"projects/{project}/databases/{name}", state
        collections = {
            gcp_types.NOTIFICATION_CHANNEL: "notificationChannels",
            gcp_types.ALERT_POLICY: "alertPolicies",
            gcp_types.DASHBOARD: "dashboards",
        }
        if typ in collections:
            resource_id = f"projects/{project}/{collections[typ]}/{_short_hash(resource_name)}"
            state.update(name=resource_id)
            return resource_id, state
        if typ == gcp_types.LOG_METRIC:
            return name, state
        if typ == gcp_types.BILLING_BUDGET:
            state.update(name=f"billingAccounts/mock/budgets/{_short_hash(resource_name)}")
            return state["name"], state
        if typ in (gcp_types.COMPUTE_NETWORK, gcp_types.COMPUTE_SUBNETWORK):
            kind = (
                "global/networks"
                if typ.endswith("Network")
                else f"regions/{state.get('region')}/subnetworks"
            )
            resource_id = f"projects/{project}/{kind}/{name}"
            link = f"https://www.googleapis.com/compute/v1/{resource_id}"
            state.update(selfLink=link, name=name)
            return resource_id, state
        if typ == gcp_types.COMPUTE_ADDRESS:
            region = state.get("region")
            resource_id = f"projects/{project}/regions/{region}/addresses/{name}"
            link = f"https://www.googleapis.com/compute/v1/{resource_id}"
            state.update(address="203.0.113.10", selfLink=link)
            return resource_id, state
        return self._security(typ, resource_name, project, name, state)

    def _security(
        self, typ: str, resource_name: str, project: str, name: str, state: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """KMS and Workload Identity Federation (the bootstrap program's), ids as GCP's."""
        if typ == gcp_types.KMS_KEY_RING:
            return f"projects/{project}/locations/{state.get('location')}/keyRings/{name}", state
        if typ == gcp_types.KMS_CRYPTO_KEY:
            return f"{_plain(state.get('keyRing'))}/cryptoKeys/{name}", state
        pools = f"projects/{FAKE_PROJECT_NUMBER}/locations/global/workloadIdentityPools"
        if typ == gcp_types.WORKLOAD_IDENTITY_POOL:
            state.update(name=f"{pools}/{state.get('workloadIdentityPoolId')}", state="ACTIVE")
            return f"projects/{project}/locations/global/workloadIdentityPools/{name}", state
        if typ == gcp_types.WORKLOAD_IDENTITY_POOL_PROVIDER:
            pool, provider = (
                state.get("workloadIdentityPoolId"),
                state.get("workloadIdentityPoolProviderId"),
            )
            state.update(name=f"{pools}/{pool}/providers/{provider}", state="ACTIVE")
            return (
                f"projects/{project}/locations/global/workloadIdentityPools/{pool}/providers/{provider}",
                state,
            )
        return f"{resource_name}-id", state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == gcp_types.GET_PROJECT:
            return {"number": FAKE_PROJECT_NUMBER, "projectId": args.args.get("projectId")}, []
        if args.token == gcp_types.GET_SECRET_VERSION:
            return self._secret_version(args.args)
        return {}, []

    def _secret_version(self, args: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        secret, version = str(args.get("secret")), str(args.get("version"))
        project = args.get("project")
        if self.secret_versions is not None:
            versions = self.secret_versions.get(secret, {})
            if version not in versions:  # as the provider fails: a failure, not an exception
                return {}, [
                    (
                        "version",
                        "Error retrieving available secret manager secret versions: googleapi: "
                        f"Error 404: Secret Version [projects/{FAKE_PROJECT_NUMBER}/secrets/"
                        f"{secret}/versions/{version}] not found.",
                    )
                ]
            state = versions[version]
        else:
            state = "ENABLED"
        name = f"projects/{FAKE_PROJECT_NUMBER}/secrets/{secret}/versions/{version}"
        answer = {
            "name": name,
            "id": name,
            "project": project,
            "secret": secret,
            "version": version,
            "enabled": True,  # as the provider: whatever the version's state
            "createTime": "2026-01-01T00:00:00Z",
        }
        if state == "DESTROYED":
            answer["destroyTime"] = "2026-01-02T00:00:00Z"
        return answer, []


_TRACKER_SWAP = threading.Lock()
"""Held while :func:`load_apart` has cloudpickle's class tracker swapped out."""


def load_apart(serialized: str) -> Any:
    """Unpickle a provider as the host does, in a process of its own: a class pickled by
    value (infra/build/by_value.py) becomes a class of its own, not the live one.

    In the same process cloudpickle would find the live class by its tracking id and set
    the pickled methods on it, each with a snapshot of its module's globals: a test that
    patches the module afterwards would no longer reach the provider. Hiding the tracker
    for the load keeps the live class as it was (cloudpickle's tracker is private; this is
    offline code only).

    The mock monitor registers resources from a pool of threads, so two loads can overlap:
    the swap of the process-wide tracker takes turns (:data:`_TRACKER_SWAP`), or one load
    would save the other's empty tracker and restore that. The copy is taken with
    ``items()``, which yields only live classes: ``dict()`` of a weak mapping lists its keys
    first and raises ``KeyError`` for a class collected before its turn."""
    from cloudpickle import cloudpickle as tracker

    with _TRACKER_SWAP:
        known = dict(tracker._DYNAMIC_CLASS_TRACKER_BY_ID.items())
        tracker._DYNAMIC_CLASS_TRACKER_BY_ID.clear()
        try:
            return dill.loads(base64.b64decode(serialized))
        finally:
            tracker._DYNAMIC_CLASS_TRACKER_BY_ID.clear()
            tracker._DYNAMIC_CLASS_TRACKER_BY_ID.update(known)


def dynamic_check(name: str, inputs: dict[str, Any]) -> None:
    """Run a dynamic resource's own provider ``check`` on its inputs, as the dynamic
    provider host does before every preview and update (pulumi/dynamic/__main__.py
    ``Check``: the pickled provider from ``__provider``, the inputs deserialized with
    unknowns kept as ``pulumi.output.Unknown``, which is what the mock monitor hands over
    in a preview too). Raises :class:`DynamicCheckFailedError` on any failure."""
    serialized = _plain(inputs.get(PROVIDER_KEY))
    if not isinstance(serialized, str):
        raise DynamicCheckFailedError(f"{name}: no serialized provider in {PROVIDER_KEY}")
    provider = load_apart(serialized)  # our own program's pickle
    result = provider.check({}, inputs)
    if result.failures:
        reasons = "; ".join(f"{f.property}: {f.reason}" for f in result.failures)
        raise DynamicCheckFailedError(f"{name}: the provider's check refused it: {reasons}")


def mock_digest(image_name: str, content_hash: str) -> str:
    """A stand-in digest that, like a real one, changes iff the built content changes."""
    return "sha256:" + hashlib.sha256(f"{image_name}@{content_hash}".encode()).hexdigest()


def built_image(inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What a successful build of :class:`infra.build.ImageBuild` outputs (a dynamic
    resource has no provider to mock): its inputs checked as the provider checks them,
    and the image pinned by a digest of its content."""
    spec = BuildSpec.from_inputs({key: _plain(value) for key, value in inputs.items()})
    digest = mock_digest(spec.image_name, spec.content_hash)
    build_id = _short_hash(spec.image_name, spec.content_hash)
    build_name = f"{spec.parent}/builds/{build_id}"
    state = dict(inputs) | {
        "image": f"{spec.image_name}@{digest}",
        "digest": digest,
        "image_uri": spec.image_uri,
        "build_name": build_name,
        "log_url": f"https://console.cloud.google.com/cloud-build/builds;region={spec.region}/"
        f"{build_id}?project={spec.project}",
        "base_image_uri": spec.base_image,
        "base_image_warning": "",
    }
    return build_name, state


@dataclass(frozen=True)
class Registration:
    """One RegisterResource request, as the engine would have received it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    dependencies: tuple[str, ...]
    protect: bool
    delete_before_replace: bool
    replace_on_changes: tuple[str, ...]
    ignore_changes: tuple[str, ...]
    retain_on_delete: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InvokeRecord:
    """One Invoke request (a data source or provider function the program calls)."""

    token: str
    args: dict[str, Any]
    failed: bool
    """The mock answered with failures (the program sees an exception)."""


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.invokes: list[InvokeRecord] = []

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().Invoke(request)
        if request.tok != "pulumi:pulumi:getResource":  # the SDK's own, not a cloud read
            self.invokes.append(
                InvokeRecord(
                    token=request.tok,
                    args=rpc.deserialize_properties(request.args),
                    failed=bool(response.failures),
                )
            )
        return response

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        state = self.resources.get(response.urn)
        self.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=bool(request.custom),
                dependencies=tuple(request.dependencies),
                protect=bool(request.protect),
                delete_before_replace=bool(request.deleteBeforeReplace),
                replace_on_changes=tuple(request.replaceOnChanges),
                ignore_changes=tuple(request.ignoreChanges),
                retain_on_delete=bool(request.retainOnDelete),
                inputs=rpc.deserialize_properties(request.object),
                outputs=dict(state.state) if state is not None else {},
            )
        )
        return response
