# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API server stand-in's own semantics, driven through the official `kubernetes` client."""
from __future__ import annotations

import json
import time

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

SC = "storage.k8s.io/v1"
VSC_GROUP, VSC_VERSION, VSC_PLURAL = "snapshot.storage.k8s.io", "v1", "volumesnapshotclasses"


@pytest.fixture
def api(standin):
    return standin.api_client()


def body_of(exc):
    return json.loads(exc.body)


def raw(api, method, path, body=None, content_type="application/json", query=""):
    """A request with a body the typed client would refuse to build (unknown fields...)."""
    cfg = api.configuration
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    headers.update({"Authorization": cfg.api_key["authorization"]} if "authorization" in cfg.api_key
                   else {"Authorization": cfg.get_api_key_with_prefix("BearerToken")})
    response = api.rest_client.request(method, cfg.host + path + (("?" + query) if query else ""), headers=headers,
                                       body=body)
    response.read()
    return response.status, json.loads(response.data or b"null"), response.getheaders()


def storage_class(name, **extra):
    obj = {"apiVersion": SC, "kind": "StorageClass", "metadata": {"name": name}, "provisioner": "lvm.strata.io",
           "parameters": {"vg": "vg0"}}
    obj.update(extra)
    return obj


def pvc(name, namespace, size="1Gi", **spec):
    body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": namespace},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}
    body["spec"].update(spec)
    return body


def pv(name, claim=None, policy="Retain", phase=None):
    body = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": policy, "csi": {"driver": "lvm.strata.io", "volumeHandle": name}}}
    if claim:
        body["spec"]["claimRef"] = {"namespace": claim[0], "name": claim[1]}
    if phase:
        body["status"] = {"phase": phase}
    return body


# --- metadata, defaults, discovery -----------------------------------------------------------


def test_create_sets_metadata_and_defaults(standin, api):
    storage = client.StorageV1Api(api)
    first = storage.create_storage_class(storage_class("fast"))
    second = storage.create_storage_class(storage_class("slow"))
    assert first.reclaim_policy == "Delete" and first.volume_binding_mode == "Immediate"
    assert first.metadata.uid and first.metadata.uid != second.metadata.uid
    assert int(second.metadata.resource_version) > int(first.metadata.resource_version)
    assert first.metadata.creation_timestamp is not None and first.metadata.generation == 1
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "team-a"}})
    claim = core.create_namespaced_persistent_volume_claim(
        "team-a", {"metadata": {"generateName": "data-"}, "spec": pvc("x", "team-a")["spec"]})
    assert claim.metadata.name.startswith("data-") and len(claim.metadata.name) == len("data-") + 5
    assert claim.metadata.namespace == "team-a"
    assert claim.spec.volume_mode == "Filesystem" and claim.status.phase == "Pending"
    volume = core.create_persistent_volume(pv("pv1"))
    assert volume.status.phase == "Available"
    assert standin.get("v1", "PersistentVolumeClaim", claim.metadata.name, "team-a")["spec"]["volumeMode"] == "Filesystem"


def test_discovery_lists_served_resources(api):
    core = client.CoreV1Api(api).get_api_resources()
    by_name = dict((r.name, r) for r in core.resources)
    assert by_name["persistentvolumeclaims"].namespaced is True
    assert by_name["persistentvolumes"].namespaced is False and "list" in by_name["persistentvolumes"].verbs
    groups = client.ApisApi(api).get_api_versions()
    assert {"storage.k8s.io", "snapshot.storage.k8s.io", "rbac.authorization.k8s.io",
            "networking.k8s.io"} <= set(g.name for g in groups.groups)
    version = client.VersionApi(api).get_code()
    assert version.git_version.endswith("-standin")


def test_name_namespace_mismatch_is_400(api):
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "a"}})
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_persistent_volume_claim("a", pvc("x", "b"))
    assert exc.value.status == 400
    core.create_namespaced_persistent_volume_claim("a", pvc("x", "a"))
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_persistent_volume_claim("y", "a", pvc("x", "a"))
    assert exc.value.status == 400 and "does not match the name on the URL" in body_of(exc.value)["message"]


# --- errors ----------------------------------------------------------------------------------


def test_not_found_status(api):
    with pytest.raises(ApiException) as exc:
        client.StorageV1Api(api).read_storage_class("nope")
    assert exc.value.status == 404
    assert body_of(exc.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'storageclasses.storage.k8s.io "nope" not found', "reason": "NotFound",
        "details": {"name": "nope", "group": "storage.k8s.io", "kind": "storageclasses"}, "code": 404}


def test_create_existing_is_409_already_exists(api):
    storage = client.StorageV1Api(api)
    storage.create_storage_class(storage_class("fast"))
    with pytest.raises(ApiException) as exc:
        storage.create_storage_class(storage_class("fast"))
    assert exc.value.status == 409
    assert body_of(exc.value)["reason"] == "AlreadyExists"
    assert body_of(exc.value)["message"] == 'storageclasses.storage.k8s.io "fast" already exists'


def test_create_in_missing_namespace_is_404(api):
    with pytest.raises(ApiException) as exc:
        client.CoreV1Api(api).create_namespaced_persistent_volume_claim("ghost", pvc("x", "ghost"))
    assert exc.value.status == 404
    assert body_of(exc.value)["message"] == 'namespaces "ghost" not found'


def test_replace_with_stale_resource_version_is_409_conflict(api):
    storage = client.StorageV1Api(api)
    created = storage.create_storage_class(storage_class("fast"))
    storage.patch_storage_class("fast", {"metadata": {"labels": {"tier": "gold"}}})
    stale = storage_class("fast")
    stale["metadata"]["resourceVersion"] = created.metadata.resource_version
    with pytest.raises(ApiException) as exc:
        storage.replace_storage_class("fast", stale)
    assert exc.value.status == 409
    status = body_of(exc.value)
    assert status["reason"] == "Conflict"
    assert status["message"] == ('Operation cannot be fulfilled on storageclasses.storage.k8s.io "fast": the object '
                                 'has been modified; please apply your changes to the latest version and try again')


def test_storageclass_immutable_fields_are_422(standin, api):
    storage = client.StorageV1Api(api)
    storage.create_storage_class(storage_class("fast"))
    with pytest.raises(ApiException) as exc:
        storage.patch_storage_class("fast", {"parameters": {"vg": "vg1"}})
    assert exc.value.status == 422
    assert body_of(exc.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'StorageClass.storage.k8s.io "fast" is invalid: parameters: Forbidden: updates to parameters '
                   'are forbidden.',
        "reason": "Invalid",
        "details": {"name": "fast", "group": "storage.k8s.io", "kind": "StorageClass",
                    "causes": [{"reason": "FieldValueForbidden",
                                "message": "Forbidden: updates to parameters are forbidden.",
                                "field": "parameters"}]},
        "code": 422}
    replaced = storage_class("fast", reclaimPolicy="Retain", volumeBindingMode="WaitForFirstConsumer")
    with pytest.raises(ApiException) as exc:
        storage.replace_storage_class("fast", replaced)
    causes = body_of(exc.value)["details"]["causes"]
    assert [(c["field"], c["reason"]) for c in causes] == [("reclaimPolicy", "FieldValueForbidden"),
                                                           ("volumeBindingMode", "FieldValueInvalid")]
    # mutable fields do change
    updated = storage.patch_storage_class("fast", {"allowVolumeExpansion": True})
    assert updated.allow_volume_expansion is True
    assert standin.get(SC, "StorageClass", "fast")["parameters"] == {"vg": "vg0"}


def test_pvc_spec_immutable_and_resize_rules(standin, api):
    core = client.CoreV1Api(api)
    standin.seed([storage_class("grow", allowVolumeExpansion=True), storage_class("fixed")])
    bound = pvc("bound", "ns1", storageClassName="grow")
    bound["status"] = {"phase": "Bound", "capacity": {"storage": "1Gi"}}
    fixed = pvc("fixed", "ns1", storageClassName="fixed")
    fixed["status"] = {"phase": "Bound", "capacity": {"storage": "1Gi"}}
    standin.seed([bound, fixed, pvc("pending", "ns1", storageClassName="grow")])
    grown = core.patch_namespaced_persistent_volume_claim(
        "bound", "ns1", {"spec": {"resources": {"requests": {"storage": "2Gi"}}}})
    assert grown.spec.resources.requests["storage"] == "2Gi"
    with pytest.raises(ApiException) as exc:  # shrinking below status.capacity
        core.patch_namespaced_persistent_volume_claim("bound", "ns1", {"spec": {"resources": {"requests": {"storage": "512Mi"}}}})
    assert exc.value.status == 422
    assert body_of(exc.value)["details"]["causes"][0]["field"] == "spec.resources.requests.storage"
    with pytest.raises(ApiException) as exc:  # other spec fields
        core.patch_namespaced_persistent_volume_claim("bound", "ns1", {"spec": {"accessModes": ["ReadWriteMany"]}})
    assert exc.value.status == 422
    assert body_of(exc.value)["details"]["causes"][0] == {
        "reason": "FieldValueForbidden", "field": "spec",
        "message": "Forbidden: spec is immutable after creation except resources.requests and "
                   "volumeAttributesClassName for bound claims"}
    with pytest.raises(ApiException) as exc:  # unbound claims cannot be resized at all
        core.patch_namespaced_persistent_volume_claim("pending", "ns1", {"spec": {"resources": {"requests": {"storage": "2Gi"}}}})
    assert exc.value.status == 422
    with pytest.raises(ApiException) as exc:  # class without allowVolumeExpansion: admission says no
        core.patch_namespaced_persistent_volume_claim("fixed", "ns1", {"spec": {"resources": {"requests": {"storage": "2Gi"}}}})
    assert exc.value.status == 403 and "must support resize" in body_of(exc.value)["message"]


def test_schema_failures(api):
    storage = client.StorageV1Api(api)
    # required field missing (the typed client refuses to send that, hence raw)
    status, body, dummy = raw(api, "POST", "/apis/storage.k8s.io/v1/storageclasses", {"metadata": {"name": "x"}})
    assert status == 422
    assert body["details"]["causes"] == [{"reason": "FieldValueRequired", "message": "Required value",
                                          "field": "provisioner"}]
    status, body, dummy = raw(api, "POST", "/apis/storage.k8s.io/v1/storageclasses",  # wrong JSON type
                              {"metadata": {"name": "x"}, "provisioner": 5})
    assert status == 400 and "cannot be handled as a StorageClass" in body["message"]
    with pytest.raises(ApiException) as exc:  # enum
        storage.create_storage_class(storage_class("x", reclaimPolicy="Keep"))
    assert exc.value.status == 422
    assert body_of(exc.value)["details"]["causes"][0]["reason"] == "FieldValueNotSupported"
    with pytest.raises(ApiException) as exc:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": "Bad_Name"}})
    assert exc.value.status == 422 and body_of(exc.value)["details"]["causes"][0]["field"] == "metadata.name"


def test_unknown_fields_warn_by_default_and_fail_when_strict(standin, api):
    path = "/apis/storage.k8s.io/v1/storageclasses"
    status, body, headers = raw(api, "POST", path, storage_class("a", bogus=1))
    assert status == 201 and "bogus" not in body
    assert 'unknown field \\"bogus\\"' in headers.get("Warning", "")
    assert "bogus" not in standin.get(SC, "StorageClass", "a")
    status, body, dummy = raw(api, "POST", path, storage_class("b", bogus=1), query="fieldValidation=Strict")
    assert status == 400 and 'strict decoding error: unknown field "bogus"' in body["message"]
    assert standin.get(SC, "StorageClass", "b") is None


def test_volumesnapshotclass_crd_schema(standin, api):
    custom = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as exc:
        custom.create_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL, {
            "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": {"name": "s"},
            "driver": "lvm.strata.io", "deletionPolicy": "Maybe"})
    assert exc.value.status == 422
    assert body_of(exc.value)["details"]["causes"][0]["reason"] == "FieldValueNotSupported"
    with pytest.raises(ApiException) as exc:
        custom.create_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL, {
            "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": {"name": "s"},
            "deletionPolicy": "Delete"})
    assert body_of(exc.value)["details"]["causes"][0] == {"reason": "FieldValueRequired", "message": "Required value",
                                                          "field": "driver"}
    made = custom.create_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL, {
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": {"name": "s"},
        "driver": "lvm.strata.io", "deletionPolicy": "Delete"})
    assert made["metadata"]["resourceVersion"]
    patched = custom.patch_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL, "s", {"deletionPolicy": "Retain"})
    assert patched["deletionPolicy"] == "Retain"
    listed = custom.list_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["s"]
    status, body, dummy = raw(api, "PATCH", "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/s",
                              {"driver": "x"}, content_type="application/strategic-merge-patch+json")
    assert status == 415  # CRDs do not take strategic merge patches


# --- dry run, patches ------------------------------------------------------------------------


def test_dry_run_stores_nothing(standin, api):
    storage = client.StorageV1Api(api)
    created = storage.create_storage_class(storage_class("dry"), dry_run="All")
    assert created.metadata.name == "dry" and created.reclaim_policy == "Delete"
    assert standin.get(SC, "StorageClass", "dry") is None
    storage.create_storage_class(storage_class("real"))
    rv = standin.store.rv
    storage.patch_storage_class("real", {"metadata": {"labels": {"a": "b"}}}, dry_run="All")
    with pytest.raises(ApiException) as exc:  # dry run validates fully
        storage.patch_storage_class("real", {"provisioner": "other.io"}, dry_run="All")
    assert exc.value.status == 422
    deleted = storage.delete_storage_class("real", dry_run="All")
    assert deleted.metadata.name == "real"
    assert standin.get(SC, "StorageClass", "real")["metadata"].get("labels") is None
    assert standin.store.rv == rv
    with pytest.raises(ApiException) as exc:  # create.go: ValidateCreateOptions -> 422
        storage.create_storage_class(storage_class("x"), dry_run="Some")
    assert exc.value.status == 422
    assert body_of(exc.value)["message"] == ('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: '
                                             '[]string{"Some"}: supported values: "All"')


def test_patch_types_and_noop_update(standin, api):
    storage = client.StorageV1Api(api)
    created = storage.create_storage_class(storage_class("p", mountOptions=["a", "b"]))
    merged = storage.patch_storage_class("p", {"metadata": {"labels": {"x": "1"}}})  # client: strategic merge
    assert merged.metadata.labels == {"x": "1"}
    jp = storage.patch_storage_class("p", [{"op": "add", "path": "/metadata/labels/y", "value": "2"},
                                           {"op": "remove", "path": "/mountOptions/0"}])
    assert jp.metadata.labels == {"x": "1", "y": "2"} and jp.mount_options == ["b"]
    status, body, dummy = raw(api, "PATCH", "/apis/storage.k8s.io/v1/storageclasses/p",
                              {"metadata": {"labels": {"x": None}}}, content_type="application/merge-patch+json")
    assert status == 200 and body["metadata"]["labels"] == {"y": "2"}
    rv = body["metadata"]["resourceVersion"]
    same = storage.patch_storage_class("p", {"metadata": {"labels": {"y": "2"}}})
    assert same.metadata.resource_version == rv  # nothing changed: nothing written
    assert int(rv) > int(created.metadata.resource_version)
    status, body, dummy = raw(api, "PATCH", "/apis/storage.k8s.io/v1/storageclasses/p",
                              [{"op": "test", "path": "/provisioner", "value": "nope"}],
                              content_type="application/json-patch+json")
    assert status == 422


# --- lists -----------------------------------------------------------------------------------


def test_label_and_field_selectors(standin, api):
    core = client.CoreV1Api(api)
    objs = []
    for i, (tier, app) in enumerate([("gold", "db"), ("silver", "db"), ("gold", "web"), (None, "web")]):
        labels = {"app": app}
        if tier:
            labels["tier"] = tier
        claim = pvc("c%d" % i, "ns%d" % (i % 2))
        claim["metadata"]["labels"] = labels
        objs.append(claim)
    standin.seed(objs)

    def names(selector):
        return sorted(i.metadata.name for i in core.list_persistent_volume_claim_for_all_namespaces(
            label_selector=selector).items)

    assert names("tier=gold") == ["c0", "c2"]
    assert names("tier!=gold") == ["c1", "c3"]
    assert names("tier in (gold, silver),app=db") == ["c0", "c1"]
    assert names("tier notin (gold)") == ["c1", "c3"]
    assert names("tier") == ["c0", "c1", "c2"]
    assert names("!tier") == ["c3"]
    by_ns = core.list_persistent_volume_claim_for_all_namespaces(field_selector="metadata.namespace=ns1")
    assert sorted(i.metadata.name for i in by_ns.items) == ["c1", "c3"]
    with pytest.raises(ApiException) as exc:
        core.list_persistent_volume_claim_for_all_namespaces(field_selector="status.phase=Bound")
    assert exc.value.status == 400 and "field label not supported: status.phase" in body_of(exc.value)["message"]
    standin.seed([{"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e%d" % i, "namespace": "ns0"},
                   "involvedObject": {"kind": kind, "name": "c0", "namespace": "ns0"}, "reason": reason,
                   "type": "Warning"} for i, (kind, reason) in enumerate(
                       [("PersistentVolumeClaim", "ProvisioningFailed"), ("Pod", "FailedMount")])])
    events = core.list_namespaced_event("ns0", field_selector="involvedObject.kind=PersistentVolumeClaim,"
                                                              "involvedObject.name=c0,type=Warning")
    assert [e.reason for e in events.items] == ["ProvisioningFailed"]
    standin.seed([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p%d" % i, "namespace": "ns0"},
                   "spec": {"nodeName": "n%d" % i, "containers": [{"name": "c", "image": "i"}]},
                   "status": {"phase": phase}} for i, phase in enumerate(["Running", "Pending"])])
    pods = core.list_pod_for_all_namespaces(field_selector="status.phase=Running")
    assert [p.metadata.name for p in pods.items] == ["p0"]
    assert [p.metadata.name for p in core.list_namespaced_pod("ns0", field_selector="spec.nodeName=n1").items] == ["p1"]


def test_pagination_returns_every_object_once_from_its_snapshot(standin, api):
    core = client.CoreV1Api(api)
    standin.seed([pv("pv-%03d" % i) for i in range(25)])
    first = core.list_persistent_volume(limit=10)
    assert len(first.items) == 10 and first.metadata.remaining_item_count == 15
    token = first.metadata._continue
    assert token
    core.create_persistent_volume(pv("pv-999"))  # after the snapshot: must not show up
    core.delete_persistent_volume("pv-024")  # deleted after the snapshot: still listed
    seen = [i.metadata.name for i in first.items]
    while token:
        page = core.list_persistent_volume(limit=10, _continue=token)
        assert page.metadata.resource_version == first.metadata.resource_version
        seen.extend(i.metadata.name for i in page.items)
        token = page.metadata._continue
    assert seen == ["pv-%03d" % i for i in range(25)]
    fresh = core.list_persistent_volume()
    assert len(fresh.items) == 25 and fresh.metadata._continue is None
    with pytest.raises(ApiException) as exc:
        core.list_persistent_volume(limit=10, _continue="garbage")
    assert exc.value.status == 400


# --- auth and TLS ----------------------------------------------------------------------------


def test_requests_without_token_are_401(standin):
    configuration = client.Configuration()
    configuration.host = standin.url
    api = client.ApiClient(configuration)
    with pytest.raises(ApiException) as exc:
        client.StorageV1Api(api).list_storage_class()
    assert exc.value.status == 401
    assert body_of(exc.value)["reason"] == "Unauthorized"
    configuration.api_key = {"authorization": "Bearer wrong"}
    with pytest.raises(ApiException) as exc:
        client.StorageV1Api(client.ApiClient(configuration)).list_storage_class()
    assert exc.value.status == 401


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_with_ca(standin_tls):
    assert standin_tls.url.startswith("https://")
    api = standin_tls.api_client()
    assert api.configuration.ssl_ca_cert
    client.StorageV1Api(api).create_storage_class(storage_class("tls"))
    assert standin_tls.get(SC, "StorageClass", "tls") is not None
    configuration = client.Configuration()
    configuration.host = standin_tls.url
    configuration.api_key = {"authorization": "Bearer %s" % standin_tls.token}
    configuration.retries = False
    with pytest.raises(Exception) as exc:  # no CA: verification fails
        client.StorageV1Api(client.ApiClient(configuration)).list_storage_class(_request_timeout=5)
    assert "CERTIFICATE_VERIFY_FAILED" in str(exc.value) or "SSL" in str(exc.value)
    configuration.verify_ssl = False
    assert client.StorageV1Api(client.ApiClient(configuration)).list_storage_class().items


# --- cascades --------------------------------------------------------------------------------


def test_namespace_delete_is_asynchronous(standin, api):
    """namespace/storage/storage.go: the first delete only marks the namespace Terminating; the
    namespace controller empties it (finalizers honoured) and then removes it."""
    standin.seed([pvc("a", "gone"), pvc("b", "kept"),
                  {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r", "namespace": "gone"},
                   "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}])
    core = client.CoreV1Api(api)
    answer = core.delete_namespace("gone")  # the client types the answer as V1Status: a dict here
    assert answer["status"]["phase"] == "Terminating" and answer["metadata"]["deletionTimestamp"]
    stored = standin.get("v1", "Namespace", "gone")
    assert stored["status"]["phase"] == "Terminating" and stored["spec"]["finalizers"] == ["kubernetes"]
    # a second delete changes nothing and answers the same
    rv = standin.store.rv
    assert core.delete_namespace("gone")["status"]["phase"] == "Terminating" and standin.store.rv == rv
    # NamespaceLifecycle: nothing new inside a terminating namespace, dry runs included
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_persistent_volume_claim("gone", pvc("c", "gone"), dry_run="All")
    assert exc.value.status == 403
    assert body_of(exc.value)["message"] == ('persistentvolumeclaims "c" is forbidden: unable to create new content '
                                             'in namespace gone because it is being terminated')
    assert body_of(exc.value)["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    assert [o["metadata"]["name"] for o in standin.list("v1", "PersistentVolumeClaim", "gone")] == ["a"]
    # a claim that a scheduled pod names, even a finished one, keeps the namespace terminating
    standin.seed([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job", "namespace": "kept"},
                   "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}],
                            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "b"}}]},
                   "status": {"phase": "Succeeded"}}])
    assert standin.store.run_controllers() == []
    assert standin.get("v1", "Namespace", "gone") is None
    assert standin.list("v1", "PersistentVolumeClaim", "gone") == []
    assert standin.list("rbac.authorization.k8s.io/v1", "Role") == []
    assert [o["metadata"]["name"] for o in standin.list("v1", "PersistentVolumeClaim")] == ["b"]
    with pytest.raises(ApiException) as exc:
        core.delete_namespace("default")
    assert exc.value.status == 403


def test_pvc_protection_keeps_a_claim_a_scheduled_pod_names(standin, api):
    """pvc_protection_controller.go podUsesPVC: a scheduled pod in any phase holds the claim."""
    standin.seed([pvc("held", "ns"), pvc("free", "ns"),
                  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job-x", "namespace": "ns"},
                   "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}],
                            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "held"}}]},
                   "status": {"phase": "Succeeded"}}])
    core = client.CoreV1Api(api)
    created = core.create_namespaced_persistent_volume_claim("ns", pvc("new", "ns"))
    assert created.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    answer = core.delete_namespaced_persistent_volume_claim("held", "ns")
    assert answer.metadata.deletion_timestamp is not None
    assert standin.get("v1", "PersistentVolumeClaim", "held", "ns")["metadata"]["deletionTimestamp"]
    core.delete_namespaced_persistent_volume_claim("free", "ns")
    assert standin.get("v1", "PersistentVolumeClaim", "free", "ns") is None
    core.delete_namespaced_pod("job-x", "ns")
    assert standin.get("v1", "PersistentVolumeClaim", "held", "ns") is None


def test_delete_options_are_read_from_the_body_when_there_is_one(standin, api):
    """delete.go DeleteResource: with a body the query is not read; without one it is."""
    storage = client.StorageV1Api(api)
    storage.create_storage_class(storage_class("a"))
    storage.create_storage_class(storage_class("b"))
    uid = standin.get(SC, "StorageClass", "a")["metadata"]["uid"]
    # dryRun in the query and preconditions in the body: a REAL delete
    status, dummy, dummy = raw(api, "DELETE", "/apis/storage.k8s.io/v1/storageclasses/a", query="dryRun=All",
                               body={"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": uid}})
    assert status == 200 and standin.get(SC, "StorageClass", "a") is None
    # dryRun in the body: nothing happens
    status, dummy, dummy = raw(api, "DELETE", "/apis/storage.k8s.io/v1/storageclasses/b",
                               body={"apiVersion": "v1", "kind": "DeleteOptions", "dryRun": ["All"]})
    assert status == 200 and standin.get(SC, "StorageClass", "b") is not None
    status, body, dummy = raw(api, "DELETE", "/apis/storage.k8s.io/v1/storageclasses/b",
                              body={"kind": "DeleteOptions", "dryRun": "All"})
    assert status == 400 and "DeleteOptions.dryRun of type []string" in body["message"]
    status, body, dummy = raw(api, "DELETE", "/apis/storage.k8s.io/v1/storageclasses/b", query="dryRun=Some")
    assert status == 422 and body["details"]["kind"] == "DeleteOptions"
    assert standin.get(SC, "StorageClass", "b") is not None
    assert standin.requests()[-1]["query"] == {"dryRun": "Some"}


def test_unserved_resource_is_a_plain_404(standin, api):
    """not_found_handler.go: a group nobody serves (CRD missing) answers text/plain."""
    standin.store.unserved.add("volumesnapshotclasses.snapshot.storage.k8s.io")
    with pytest.raises(ApiException) as exc:
        client.CustomObjectsApi(api).get_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL, "x")
    assert exc.value.status == 404 and exc.value.body.strip() == b"404 page not found" or \
        exc.value.body.strip() == "404 page not found"
    groups = [g["name"] for g in raw(api, "GET", "/apis")[1]["groups"]]
    assert "snapshot.storage.k8s.io" not in groups and "storage.k8s.io" in groups


def test_pvc_delete_releases_or_deletes_the_bound_pv(standin, api):
    keep = pvc("keep", "ns")
    keep["spec"]["volumeName"] = "pv-keep"
    drop = pvc("drop", "ns")
    drop["spec"]["volumeName"] = "pv-drop"
    standin.seed([keep, drop, pv("pv-keep", ("ns", "keep"), "Retain", "Bound"),
                  pv("pv-drop", ("ns", "drop"), "Delete", "Bound")])
    core = client.CoreV1Api(api)
    deleted = core.delete_namespaced_persistent_volume_claim("keep", "ns", propagation_policy="Background")
    assert deleted.metadata.name == "keep"
    assert standin.get("v1", "PersistentVolume", "pv-keep")["status"]["phase"] == "Released"
    core.delete_namespaced_persistent_volume_claim("drop", "ns")
    assert standin.get("v1", "PersistentVolume", "pv-drop") is None


def test_pv_last_phase_transition_time_set_on_every_phase_change(standin, api):
    """Like a 1.31+ server: on create, on the release by the PV controller, and on a /status
    write that changes the phase; a write that keeps the phase keeps the time."""
    old = "2020-01-01T00:00:00Z"
    seeded = pv("pv-rel", ("ns", "c"), "Retain", "Bound")
    seeded["status"]["lastPhaseTransitionTime"] = old
    claim = pvc("c", "ns")
    claim["spec"]["volumeName"] = "pv-rel"
    standin.seed([claim, seeded])
    core = client.CoreV1Api(api)
    created = json.loads(core.create_persistent_volume(pv("pv-new"), _preload_content=False).data)
    assert created["status"]["phase"] == "Available"
    assert created["status"]["lastPhaseTransitionTime"] >= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))

    core.delete_namespaced_persistent_volume_claim("c", "ns")
    released = standin.get("v1", "PersistentVolume", "pv-rel")["status"]
    assert released["phase"] == "Released" and released["lastPhaseTransitionTime"] > old

    seeded = pv("pv-st", phase="Available")
    seeded["status"]["lastPhaseTransitionTime"] = old
    standin.seed([seeded])
    body = standin.get("v1", "PersistentVolume", "pv-st")
    body["status"]["message"] = "same phase"
    path = "/api/v1/persistentvolumes/pv-st/status"  # raw: the typed client rewrites times as +00:00
    kept = raw(api, "PUT", path, body)[1]
    assert kept["status"] == {"phase": "Available", "message": "same phase", "lastPhaseTransitionTime": old}
    body = dict(kept, status={"phase": "Failed", "lastPhaseTransitionTime": old})
    failed = raw(api, "PUT", path, body)[1]
    assert failed["status"]["phase"] == "Failed" and failed["status"]["lastPhaseTransitionTime"] > old
    assert standin.get("v1", "PersistentVolume", "pv-st")["status"] == failed["status"]
    # a writer that sets a new time itself keeps its value
    body = dict(failed, status={"phase": "Available", "lastPhaseTransitionTime": "2021-01-01T00:00:00Z"})
    again = raw(api, "PUT", path, body)[1]
    assert again["status"]["lastPhaseTransitionTime"] == "2021-01-01T00:00:00Z"


# --- other kinds -----------------------------------------------------------------------------


def test_rbac_networking_quota_roundtrip(standin, api):
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "t"}})
    rbac = client.RbacAuthorizationV1Api(api)
    rbac.create_namespaced_role("t", {"metadata": {"name": "pvc-admin"}, "rules": [
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["*"]}]})
    binding = rbac.create_namespaced_role_binding("t", {
        "metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pvc-admin"},
        "subjects": [{"kind": "Group", "name": "team-t"}]})
    assert binding.subjects[0].api_group == "rbac.authorization.k8s.io"
    with pytest.raises(ApiException) as exc:
        rbac.patch_namespaced_role_binding("b", "t", {"roleRef": {"name": "other"}})
    assert exc.value.status == 422
    net = client.NetworkingV1Api(api).create_namespaced_network_policy("t", {
        "metadata": {"name": "deny"}, "spec": {"podSelector": {}}})
    assert net.spec.policy_types == ["Ingress"]
    quota = core.create_namespaced_resource_quota("t", {"metadata": {"name": "q"}, "spec": {
        "hard": {"requests.storage": "100Gi", "persistentvolumeclaims": "10"}}})
    assert quota.spec.hard["requests.storage"] == "100Gi"
    core.create_namespaced_limit_range("t", {"metadata": {"name": "l"}, "spec": {"limits": [
        {"type": "PersistentVolumeClaim", "max": {"storage": "10Gi"}}]}})
    assert [o["metadata"]["name"] for o in standin.list("v1", "LimitRange", "t")] == ["l"]
    status, body, dummy = raw(api, "POST", "/api/v1/namespaces/t/resourcequotas",
                              {"metadata": {"name": "bad"}, "spec": {"hard": {"requests.storage": "lots"}}})
    assert status == 400 and "quantities must match" in body["message"]


# --- request accounting and scale --------------------------------------------------------------


def test_request_accounting(standin, api):
    storage = client.StorageV1Api(api)
    standin.reset_requests()
    storage.create_storage_class(storage_class("a"), dry_run="All")
    storage.list_storage_class(label_selector="x=y")
    with pytest.raises(ApiException):
        storage.read_storage_class("nope")
    assert [dict((k, r[k]) for k in ("method", "path", "query")) for r in standin.requests()] == [
        {"method": "POST", "path": "/apis/storage.k8s.io/v1/storageclasses", "query": {"dryRun": "All"}},
        {"method": "GET", "path": "/apis/storage.k8s.io/v1/storageclasses", "query": {"labelSelector": "x=y"}},
        {"method": "GET", "path": "/apis/storage.k8s.io/v1/storageclasses/nope", "query": {}},
    ]
    first = standin.requests()[0]
    assert first["body"]["metadata"]["name"] == "a" and first["headers"]["authorization"] == "Bearer"
    status, body, dummy = raw(api, "GET", "/_standin/requests")
    assert status == 200 and len(body) == 3  # the _standin paths are not counted
    raw(api, "DELETE", "/_standin/requests")
    assert standin.requests() == []


def test_scale_5000_pvs_and_pvcs_listed_in_pages_of_500(standin, api):
    started = time.monotonic()
    namespaces = ["tenant-%03d" % i for i in range(200)]
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in namespaces]
    for i in range(5000):
        ns = namespaces[i % 200]
        claim = pvc("data-%04d" % i, ns, storageClassName="fast", volumeName="pv-%04d" % i)
        claim["status"] = {"phase": "Bound", "capacity": {"storage": "1Gi"}}
        objects.append(claim)
        objects.append(pv("pv-%04d" % i, (ns, "data-%04d" % i), "Delete", "Bound"))
    standin.seed(objects)
    seeded = time.monotonic()
    standin.reset_requests()
    core = client.CoreV1Api(api)
    totals = {}
    for kind, call in (("pv", core.list_persistent_volume), ("pvc", core.list_persistent_volume_claim_for_all_namespaces)):
        names, token = set(), None
        while True:
            kwargs = {"limit": 500, "_preload_content": False}
            if token:
                kwargs["_continue"] = token
            page = json.loads(call(**kwargs).data)
            names.update(i["metadata"]["name"] for i in page["items"])
            token = page["metadata"].get("continue")
            if not token:
                break
        totals[kind] = len(names)
    listed = time.monotonic()
    assert totals == {"pv": 5000, "pvc": 5000}
    requests = standin.requests()
    assert len(requests) == 20
    assert [r["path"] for r in requests] == ["/api/v1/persistentvolumes"] * 10 + ["/api/v1/persistentvolumeclaims"] * 10
    print("\nstand-in scale: seeded 10,200 objects in %.2fs, listed 10,000 in 20 requests in %.2fs"
          % (seeded - started, listed - seeded))
    assert seeded - started < 10


# --- rules taken from the real server (each cited in the README) ------------------------------


def test_omitempty_drops_empty_maps_and_lists_of_built_in_kinds_only(standin, api):
    storage = client.StorageV1Api(api)
    created = storage.create_storage_class({"metadata": {"name": "e", "labels": {}}, "provisioner": "p.io",
                                            "parameters": {}, "mountOptions": []}, _preload_content=False)
    body = json.loads(created.data)
    assert "parameters" not in body and "mountOptions" not in body and "labels" not in body["metadata"]
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "n"},
              "spec": {"podSelector": {}, "ingress": []}}
    client.CoreV1Api(api).create_namespace({"metadata": {"name": "np"}})
    stored = client.NetworkingV1Api(api).create_namespaced_network_policy("np", policy, _preload_content=False)
    spec = json.loads(stored.data)["spec"]
    assert spec["podSelector"] == {} and "ingress" not in spec        # a struct stays, a list goes
    custom = client.CustomObjectsApi(api).create_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL, {
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": {"name": "v"},
        "driver": "d.io", "deletionPolicy": "Delete", "parameters": {}})
    assert custom["parameters"] == {}                                   # unstructured JSON keeps it


def test_validation_of_role_rules_quota_keys_limit_ranges_and_pod_security(standin, api):
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    core.create_namespace({"metadata": {"name": "t"}})
    cases = (
        (lambda: rbac.create_namespaced_role("t", {"metadata": {"name": "r"}, "rules": [{"verbs": ["get"]}]}),
         "rules[0].apiGroups: Required value: resource rules must supply at least one api group"),
        (lambda: core.create_namespaced_resource_quota("t", {"metadata": {"name": "q"},
                                                             "spec": {"hard": {"pvcs": "3"}}}),
         "spec.hard[pvcs]: Invalid value: \"pvcs\": must be a standard resource for quota"),
        (lambda: core.create_namespaced_limit_range("t", {"metadata": {"name": "l"}, "spec": {"limits": [
            {"type": "PersistentVolumeClaim", "min": {"storage": "10Gi"}, "max": {"storage": "1Gi"}}]}}),
         "spec.limits[0].min[storage]: Invalid value: \"10Gi\": min value 10Gi is greater than max value 1Gi"),
        (lambda: core.create_namespace({"metadata": {"name": "p", "labels": {
            "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "1.31"}}}),
         'metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.31": must be "latest" or "v1.x"'),
    )
    for call, text in cases:
        with pytest.raises(ApiException) as exc:
            call()
        assert exc.value.status == 422 and text in body_of(exc.value)["message"], body_of(exc.value)["message"]
    # extended resource names (per-class storage, nvidia.com/gpu) must be whole numbers;
    # requests.<extended> and *kubernetes.io/ names need not
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_resource_quota("t", {"metadata": {"name": "q"}, "spec": {"hard": {
            "fast.storageclass.storage.k8s.io/requests.storage": "500m", "nvidia.com/gpu": "0.5"}}})
    message = body_of(exc.value)["message"]
    assert message.count("must be an integer") == 2, message
    core.create_namespaced_resource_quota("t", {"metadata": {"name": "q"}, "spec": {"hard": {
        "requests.nvidia.com/gpu": "0.5", "fast.storageclass.storage.k8s.io/requests.storage": "1.5Gi"}}})
    # LimitRange: a Container item names container resources; extended ones cannot overcommit
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_limit_range("t", {"metadata": {"name": "l"}, "spec": {"limits": [
            {"type": "Container", "default": {"storage": "1Gi", "example.com/x": "2"},
             "defaultRequest": {"example.com/x": "1"}}]}})
    message = body_of(exc.value)["message"]
    assert 'spec.limits[0].default[storage]: Invalid value: "storage": must be a standard resource for containers' \
        in message, message
    assert "default value 2 must equal to defaultRequest value 1 in example.com/x" in message, message
    core.create_namespaced_limit_range("t", {"metadata": {"name": "l"}, "spec": {"limits": [
        {"type": "Container", "default": {"cpu": "1", "example.com/x": "1"}, "defaultRequest": {"example.com/x": "1"}},
        {"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}]}})
    # what validatePolicyRule does not refuse: resourceNames shared by several resources
    rbac.create_namespaced_role("t", {"metadata": {"name": "ok"}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps", "secrets"], "resourceNames": ["app"], "verbs": ["get"]}]})


def test_quota_admission_and_the_snapshot_webhook(standin, api):
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "q"}})
    core.create_namespaced_persistent_volume_claim("q", pvc("one", "q"))
    core.create_namespaced_resource_quota("q", {"metadata": {"name": "closing"},
                                                "spec": {"hard": {"persistentvolumeclaims": "0"}}})
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_persistent_volume_claim("q", pvc("two", "q"), dry_run="All")
    assert exc.value.status == 403
    assert body_of(exc.value)["message"] == ('persistentvolumeclaims "two" is forbidden: exceeded quota: closing, '
                                             'requested: persistentvolumeclaims=1, used: persistentvolumeclaims=1, '
                                             'limited: persistentvolumeclaims=0')
    custom = client.CustomObjectsApi(api)

    def vsc(name, default):
        return {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "driver": "d.io",
                "deletionPolicy": "Delete", "metadata": {"name": name, "annotations": {
                    "snapshot.storage.kubernetes.io/is-default-class": default}}}

    custom.create_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL, vsc("a", "true"))
    with pytest.raises(ApiException) as exc:   # the webhook sees dry runs too
        custom.create_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL, vsc("b", "true"), dry_run="All")
    assert exc.value.status == 400 and "reason" not in body_of(exc.value)
    assert body_of(exc.value)["message"] == ('admission webhook "validation-webhook.snapshot.storage.k8s.io" denied '
                                             'the request: default snapshot class: a already exists for driver: d.io')
    standin.store.snapshot_webhook = False
    custom.create_cluster_custom_object(VSC_GROUP, VSC_VERSION, VSC_PLURAL, vsc("b", "true"), dry_run="All")


def test_expired_continue_token_is_410(standin, api):
    standin.seed([storage_class("c%d" % i) for i in range(3)])
    storage = client.StorageV1Api(api)
    first = storage.list_storage_class(limit=1)
    standin.store.expire_continue = 1
    with pytest.raises(ApiException) as exc:
        storage.list_storage_class(limit=1, _continue=first.metadata._continue)
    assert exc.value.status == 410 and body_of(exc.value)["reason"] == "Expired"
