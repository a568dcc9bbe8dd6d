"""The Agent CRD (manifests/crds/) and the samples (manifests/agents/).

The schema is checked here with jsonschema after converting OpenAPI v3 to
JSON Schema (x-kubernetes-* extensions and CEL rules set aside; the API
server enforces those, see tests/cluster). The samples' exact contents are
checked too: the local runner reads marcus and letitia from the same files.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from conftest import SAMPLES, load_sample

from skyras_operator import builders, constants


def to_json_schema(node: Any) -> Any:
    """OpenAPI v3 (structural, as in a CRD) to JSON Schema draft 2020-12."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: to_json_schema(value)
        for key, value in node.items()
        if not key.startswith("x-kubernetes-") and key != "nullable"
    }
    if node.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


@pytest.fixture(scope="module")
def version(crd: dict[str, Any]) -> dict[str, Any]:
    (only,) = crd["spec"]["versions"]
    return only


@pytest.fixture(scope="module")
def validator(version: dict[str, Any]) -> jsonschema.Draft202012Validator:
    schema = to_json_schema(version["schema"]["openAPIV3Schema"])
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_crd_names_the_resource(crd: dict[str, Any], version: dict[str, Any]) -> None:
    assert crd["metadata"]["name"] == "agents.skyras.io"
    assert crd["spec"]["group"] == constants.GROUP
    assert crd["spec"]["scope"] == "Namespaced"
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == ("Agent", "agents", ["ag"])
    assert version["name"] == constants.VERSION and version["served"] and version["storage"]
    assert version["subresources"]["status"] == {}
    assert version["subresources"]["scale"]["specReplicasPath"] == ".spec.replicas"


def test_printer_columns(version: dict[str, Any]) -> None:
    columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
    assert list(columns) == ["Image", "Replicas", "Ready", "Routes", "Phase", "Age"]
    assert columns["Ready"] == ".status.readyReplicas"
    assert columns["Age"] == ".metadata.creationTimestamp"


def _walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for key, child in (node.get("properties") or {}).items():
        yield from _walk(child, f"{path}.{key}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")


def test_schema_is_structural(version: dict[str, Any]) -> None:
    """Every node has a type (the API server refuses a CRD otherwise)."""
    for path, node in _walk(version["schema"]["openAPIV3Schema"]):
        assert (
            "type" in node
            or node.get("x-kubernetes-preserve-unknown-fields")
            or node.get("x-kubernetes-int-or-string")
        ), path


def test_defaults_are_valid_for_their_own_schema(version: dict[str, Any]) -> None:
    for path, node in _walk(version["schema"]["openAPIV3Schema"]):
        if "default" in node:
            jsonschema.validate(
                node["default"], to_json_schema({k: v for k, v in node.items() if k != "default"})
            )
            assert path


def test_map_lists_key_on_required_fields(version: dict[str, Any]) -> None:
    for path, node in _walk(version["schema"]["openAPIV3Schema"]):
        if node.get("x-kubernetes-list-type") == "map":
            for key in node["x-kubernetes-list-map-keys"]:
                assert key in node["items"]["required"], path


def test_status_holds_what_the_operator_writes(version: dict[str, Any]) -> None:
    """The status schema is strict: a field the operator writes but the schema
    lacks would be pruned silently."""
    status_schema = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    status = builders.build_status(
        name="marcus",
        agent=builders.parse_spec(load_sample("marcus")["spec"]),
        generation=1,
        desired_replicas=1,
        deployment=None,
        available=builders.ConditionUpdate("False", "DeploymentMissing", ""),
        registered=builders.ConditionUpdate("True", "Registered", ""),
        scaling_condition=builders.ConditionUpdate("True", "Steady", ""),
        endpoint="http://marcus.skyras.svc:8001",
        autoscaling={
            "lag": 0,
            "desiredReplicas": 1,
            "lastActiveTime": "2025-01-01T00:00:00Z",
            "recommendations": [{"time": "2025-01-01T00:00:00Z", "replicas": 1}],
        },
        old_status=None,
        now="2025-01-01T00:00:00Z",
    )
    assert set(status) <= set(status_schema)
    assert set(status["autoscaling"]) <= set(status_schema["autoscaling"]["properties"])
    assert set(status["conditions"][0]) <= set(status_schema["conditions"]["items"]["properties"])


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_is_valid(validator: jsonschema.Draft202012Validator, sample: Any) -> None:
    agent = load_sample(sample.stem)
    errors = sorted(validator.iter_errors(agent), key=str)
    assert not errors, [e.message for e in errors]
    assert agent["apiVersion"] == constants.API_VERSION and agent["kind"] == "Agent"
    assert agent["metadata"]["name"] == sample.stem
    builders.parse_spec(agent["spec"])  # the operator accepts it too


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda s: s.pop("image"), "image"),
        (lambda s: s.pop("port"), "port"),
        (lambda s: s.update(port=0), "port"),
        (lambda s: s.update(port=65536), "port"),
        (lambda s: s.update(replicas=51), "replicas"),
        (lambda s: s["routes"][0].update(path="task"), "path"),
        (lambda s: s["routes"][0].update(methods=["FETCH"]), "methods"),
        (lambda s: s["routes"][0].update(methods=[]), "methods"),
        (lambda s: s["routes"][0].pop("target"), "target"),
        (lambda s: s["routes"][0].update(public="yes"), "public"),
        (lambda s: s["autoscaling"].update(maxReplicas=0), "maxReplicas"),
        (lambda s: s["autoscaling"].update(targetLag=0), "targetLag"),
        (lambda s: s["autoscaling"].update(enabled="yes"), "enabled"),
        (lambda s: s["events"].update(publishes=["Task Created"]), "publishes"),
        (lambda s: s["chat"].update(keywords="task"), "keywords"),
        (lambda s: s.update(env=[{"value": "x"}]), "env"),
        (lambda s: s.update(imagePullPolicy="Sometimes"), "imagePullPolicy"),
        (lambda s: s.update(volumes=[{"emptyDir": {}}]), "name"),
        (lambda s: s.update(volumes=[{"name": "My_Files", "emptyDir": {}}]), "name"),
        (lambda s: s.update(volumeMounts=[{"name": "files"}]), "mountPath"),
        (lambda s: s.update(volumeMounts=[{"name": "f", "mountPath": "data"}]), "mountPath"),
        (
            lambda s: s.update(volumeMounts=[{"name": "f", "mountPath": "/d", "subPath": "/x"}]),
            "subPath",
        ),
        (lambda s: s.update(envFrom=[{"secretRef": {}}]), "name"),
        (lambda s: s.update(strategy={"type": "BlueGreen"}), "type"),
    ],
)
def test_invalid_agents_are_refused(
    validator: jsonschema.Draft202012Validator, mutate: Any, where: str
) -> None:
    agent = copy.deepcopy(load_sample("marcus"))
    mutate(agent["spec"])
    errors = list(validator.iter_errors(agent))
    assert errors
    assert any(where in "/".join(map(str, e.absolute_path)) + e.message for e in errors)


def test_an_agent_with_storage_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    agent = copy.deepcopy(load_sample("letitia"))
    agent["spec"].update(
        volumes=[{"name": "files", "persistentVolumeClaim": {"claimName": "letitia-files"}}],
        volumeMounts=[{"name": "files", "mountPath": "/var/lib/skyras"}],
        envFrom=[{"secretRef": {"name": "letitia-s3"}}],
        strategy={"type": "Recreate"},
    )
    assert not [e.message for e in validator.iter_errors(agent)]


MARCUS_ROUTES = [
    ("/task", ["POST"], "/api/tasks"),
    ("/tasks", ["GET", "POST"], "/api/tasks"),
    ("/tasks/{id}", ["GET", "PUT", "PATCH", "DELETE"], "/api/tasks/{id}"),
    ("/tasks/{id}/files", ["GET"], "/api/tasks/{id}/files"),
    ("/calendar/events", ["GET"], "/api/calendar/events"),
    ("/calendar.ics", ["GET"], "/api/calendar.ics"),
    ("/calendar/bookings", ["GET", "POST"], "/api/calendar/bookings"),
    ("/plane/issues", ["GET"], "/api/plane/issues"),
    ("/webhooks/deliveries", ["GET"], "/api/webhooks/deliveries"),
    ("/chat", ["POST"], "/api/chat"),
]
LETITIA_ROUTES = [
    ("/upload", ["POST"], "/api/files"),
    ("/search", ["POST"], "/api/search"),
    ("/files", ["GET", "POST"], "/api/files"),
    ("/files/{id}", ["GET", "DELETE"], "/api/files/{id}"),
    ("/files/{id}/content", ["GET", "HEAD"], "/api/files/{id}/content"),
    ("/files/{id}/tags", ["POST"], "/api/files/{id}/tags"),
    ("/files/{id}/tags/{tag}", ["DELETE"], "/api/files/{id}/tags/{tag}"),
    ("/files/{id}/tasks", ["GET"], "/api/files/{id}/tasks"),
    ("/chat", ["POST"], "/api/chat"),
]


@pytest.mark.parametrize(
    ("name", "port", "routes", "publishes", "subscribes"),
    [
        (
            "marcus",
            8001,
            MARCUS_ROUTES,
            ["task.created", "task.updated", "task.deleted"],
            ["file.uploaded"],
        ),
        (
            "letitia",
            8002,
            LETITIA_ROUTES,
            ["file.uploaded", "file.tagged", "file.deleted", "file.associated"],
            # task.updated: Marcus reports the tasks an uploaded file matches (Letitia links).
            ["task.created", "task.updated"],
        ),
    ],
)
def test_local_runner_contract(
    name: str, port: int, routes: list[Any], publishes: list[str], subscribes: list[str]
) -> None:
    spec = load_sample(name)["spec"]
    assert spec["image"] == f"skyras/{name}:0.1.0"
    assert spec["command"] == [
        "uvicorn",
        f"skyras_{name}.main:app",
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
    ]
    assert spec["port"] == port
    assert [(r["path"], r["methods"], r["target"]) for r in spec["routes"]] == routes
    assert spec["events"] == {"publishes": publishes, "subscribes": subscribes}
    assert spec["chat"]["keywords"] and spec["chat"]["description"]


def test_future_agents_have_their_own_ports_and_modules() -> None:
    for name, port in (("ari", 8003), ("jamal", 8004), ("giorgio", 8005)):
        spec = load_sample(name)["spec"]
        assert spec["port"] == port
        assert f"skyras_{name}.main:app" in spec["command"]
        assert str(port) in spec["command"]
        assert spec["image"] == f"skyras/{name}:0.1.0"
        assert {"path": "/chat", "methods": ["POST"], "target": "/api/chat"} in spec["routes"]


def test_public_routes_are_reads_only_in_the_crd_as_in_the_operator(
    version: dict[str, Any], validator: jsonschema.Draft202012Validator
) -> None:
    routes = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["routes"]
    public = routes["items"]["properties"]["public"]
    assert (public["type"], public["default"]) == ("boolean", False)
    # The API server's rule (CEL; tests/operator applies a public POST route and sees it
    # refused) names the same methods the operator allows.
    (rule,) = routes["items"]["x-kubernetes-validations"]
    allowed = set(re.findall(r"m == '([A-Z]+)'", rule["rule"]))
    assert allowed == builders.PUBLIC_METHODS
    # The samples' public routes: what podcast apps and calendar clients fetch, keyless.
    public_routes = {
        (name, r["path"]): r["methods"]
        for name in ("jamal", "marcus")
        for r in load_sample(name)["spec"]["routes"]
        if r.get("public")
    }
    assert public_routes == {
        ("jamal", "/shows/{slug}/feed.xml"): ["GET", "HEAD"],
        ("jamal", "/media/{id}/{name}"): ["GET", "HEAD"],
        ("marcus", "/calendar.ics"): ["GET"],
    }
    flagged = copy.deepcopy(load_sample("marcus"))
    flagged["spec"]["routes"][0]["public"] = False
    assert not [e.message for e in validator.iter_errors(flagged)]


def test_the_operator_checks_names_as_the_crd_does(version: dict[str, Any]) -> None:
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert spec["env"]["items"]["properties"]["name"]["pattern"] == constants.ENV_NAME_PATTERN
    assert spec["envFrom"]["items"]["properties"]["prefix"]["pattern"] == constants.ENV_NAME_PATTERN
    volume_name = spec["volumes"]["items"]["properties"]["name"]["pattern"]
    assert volume_name == builders._VOLUME_NAME.pattern
    assert spec["strategy"]["properties"]["type"]["enum"] == list(builders.STRATEGIES)
