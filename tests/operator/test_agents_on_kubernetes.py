"""The operator against a real Kubernetes API server, with the real hub and agents as processes.

`kubectl apply` of an Agent must give a Deployment and a Service, register its
routes with the hub (the endpoint template points the hub at the local agent
process), keep the status truthful, repair drift, and scale from consumer lag.
"""

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
import yaml

from skyras.constants import channel_for_type, stream_key
from skyras.embedded import EmbeddedRedis, free_port
from skyras.testing import ServiceProcess, create_api_key_sync
from tests.cluster.controlplane import ControlPlane
from tests.conftest import ROOT
from tests.utils import eventually

pytestmark = pytest.mark.kube

RECONCILE_SECONDS = "1"
# The operator "runs in" this namespace: its Agents get the platform env.
HOME_NAMESPACE = "operator-home"
PLATFORM_ENV = [
    {"name": "SKYRAS_REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "rd", "key": "pw"}}},
    {"name": "SKYRAS_REDIS_URL", "value": "redis://:$(SKYRAS_REDIS_PASSWORD)@redis:6379/0"},
    {"name": "SKYRAS_LOG_FORMAT", "value": "json"},
]


class Stack:
    """The hub, one agent process per applied Agent, and the operator."""

    def __init__(self, kube: ControlPlane, database_url: str, redis_url: str, logs: Path) -> None:
        self.kube, self.database_url, self.redis_url, self.logs = (
            kube,
            database_url,
            redis_url,
            logs,
        )
        self.env = {
            "SKYRAS_DATABASE_URL": database_url,
            "SKYRAS_REDIS_URL": redis_url,
            "SKYRAS_AUTH_MODE": "required",
            "SKYRAS_DATA_DIR": str(logs / "data"),
        }
        self.hub = ServiceProcess("skyras_hub.main:app", self.env, log=logs / "hub.log")
        self.token = create_api_key_sync(database_url, "registry", "read", "write", name="operator")
        self.agents: list[ServiceProcess] = []
        self.operator: subprocess.Popen[bytes] | None = None

    def start_operator(self) -> None:
        env = self.kube.env()
        env.update(
            SKYRAS_HUB_URL=self.hub.url,
            SKYRAS_HUB_TOKEN=self.token,
            SKYRAS_REDIS_URL=self.redis_url,
            SKYRAS_OPERATOR_ENDPOINT_TEMPLATE="http://127.0.0.1:{port}",
            SKYRAS_OPERATOR_RECONCILE_INTERVAL=RECONCILE_SECONDS,
            SKYRAS_OPERATOR_BACKOFF_BASE="0.5",
            SKYRAS_OPERATOR_BACKOFF_MAX="2",
            SKYRAS_OPERATOR_DELETE_TIMEOUT="20",
            SKYRAS_OPERATOR_AGENT_ENV=json.dumps(PLATFORM_ENV),
            POD_NAMESPACE=HOME_NAMESPACE,
        )
        with open(self.logs / "operator.log", "ab") as log:
            self.operator = subprocess.Popen(
                [sys.executable, "-m", "kopf", "run", "-m", "skyras_operator.main",
                 "--all-namespaces", "--standalone", f"--liveness=http://127.0.0.1:{free_port()}/healthz"],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            )  # fmt: skip

    def run_agent(self, name: str) -> ServiceProcess:
        agent = ServiceProcess(f"skyras_{name}.main:app", self.env, log=self.logs / f"{name}.log")
        agent.start()
        self.agents.append(agent)
        return agent

    def stop(self) -> None:
        if self.operator is not None:
            self.operator.terminate()
            try:
                self.operator.wait(20)
            except subprocess.TimeoutExpired:
                self.operator.kill()
        for agent in self.agents:
            agent.stop()
        self.hub.stop()

    def registry(self, name: str) -> httpx.Response:
        return httpx.get(
            f"{self.hub.url}/api/v2/registry/agents/{name}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5,
        )

    def through_hub(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return httpx.request(
            method, f"{self.hub.url}/api/v2/agents/{path}",
            headers={"Authorization": f"Bearer {self.token}"}, timeout=10, **kw,
        )  # fmt: skip


@pytest.fixture(scope="module")
def stack(
    kube: ControlPlane,
    module_database_url: str,
    redis_server: EmbeddedRedis | str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    redis_url = redis_server if isinstance(redis_server, str) else redis_server.url
    stack = Stack(kube, module_database_url, redis_url, tmp_path_factory.mktemp("stack"))
    stack.hub.start()
    stack.start_operator()
    yield stack
    stack.stop()


@pytest.fixture
def namespace(kube: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    kube.kubectl("create", "namespace", name)
    yield name
    kube.kubectl("delete", "namespace", name, "--wait=false", check=False)


def agent_manifest(name: str, port: int, **spec_changes: Any) -> str:
    """The sample manifest of `name`, on `port` (where its local process listens)."""
    document = yaml.safe_load((ROOT / "manifests" / "agents" / f"{name}.yaml").read_text())
    document["spec"]["port"] = port
    document["spec"].update(spec_changes)
    return yaml.safe_dump(document)


def get(kube: ControlPlane, kind: str, name: str, namespace: str) -> dict[str, Any]:
    out = kube.kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout
    return json.loads(out)  # type: ignore[no-any-return]


def condition(agent: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in agent["status"]["conditions"] if c["type"] == kind)


def test_an_applied_agent_is_deployed_registered_and_reachable_through_the_hub(
    stack: Stack, kube: ControlPlane, namespace: str
) -> None:
    marcus = stack.run_agent("marcus")
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=agent_manifest("marcus", marcus.port))

    deployment = eventually(lambda: get(kube, "deployment", "marcus", namespace), what="Deployment")
    service = get(kube, "service", "marcus", namespace)
    agent = get(kube, "agent", "marcus", namespace)
    for child in (deployment, service):
        owner = child["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["uid"]) == (
            "Agent",
            "marcus",
            agent["metadata"]["uid"],
        )
        assert owner["controller"] is True
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "skyras/marcus:0.1.0"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert service["spec"]["ports"][0]["port"] == marcus.port

    record = eventually(
        lambda: (
            stack.registry("marcus").json() if stack.registry("marcus").status_code == 200 else None
        ),
        what="registration",
    )
    assert record["endpoint"] == f"http://127.0.0.1:{marcus.port}"
    created = stack.through_hub(
        "POST", "marcus/task", json={"title": "Mix track 3", "priority": "high"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "Mix track 3"

    # kwok turns the pod Ready, so the Agent is Ready, and kubectl shows it.
    eventually(
        lambda: get(kube, "agent", "marcus", namespace)["status"]["phase"] == "Ready", 40, "Ready"
    )
    table = kube.kubectl("get", "agents", "-n", namespace).stdout
    assert re.search(r"NAME\s+IMAGE\s+REPLICAS\s+READY\s+ROUTES\s+PHASE\s+AGE", table), table
    assert re.search(r"marcus\s+skyras/marcus:0.1.0\s+1\s+1\s+10\s+Ready", table), table


def test_route_edits_reach_the_hub_and_deletion_deregisters_and_collects_children(
    stack: Stack, kube: ControlPlane, namespace: str
) -> None:
    letitia = stack.run_agent("letitia")
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=agent_manifest("letitia", letitia.port))
    eventually(lambda: stack.registry("letitia").status_code == 200, what="registration")

    routes = [{"path": "/search", "methods": ["POST"], "target": "/api/search"}]
    kube.kubectl(
        "patch",
        "agent",
        "letitia",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        json.dumps({"spec": {"routes": routes}}),
    )
    eventually(lambda: len(stack.registry("letitia").json()["routes"]) == 1, 10, "routes updated")
    assert stack.through_hub("GET", "letitia/files").status_code == 404

    kube.kubectl("delete", "agent", "letitia", "-n", namespace, "--timeout=30s")
    eventually(lambda: stack.registry("letitia").status_code == 404, 10, "deregistered")
    eventually(
        lambda: kube.kubectl("get", "deployment,service", "-n", namespace, "-o", "name").stdout.strip() == "",
        30, "children garbage-collected",
    )  # fmt: skip


def test_a_deployment_deleted_by_hand_is_recreated(
    stack: Stack, kube: ControlPlane, namespace: str
) -> None:
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=agent_manifest("jamal", free_port()))
    first = eventually(lambda: get(kube, "deployment", "jamal", namespace), what="Deployment")
    kube.kubectl("delete", "deployment", "jamal", "-n", namespace)

    again = eventually(
        lambda: (d := get(kube, "deployment", "jamal", namespace))["metadata"]["uid"] != first["metadata"]["uid"] and d,
        15, "recreated Deployment",
    )  # fmt: skip
    assert again["metadata"]["ownerReferences"][0]["name"] == "jamal"


def test_an_invalid_agent_is_rejected_by_the_api_server_with_a_clear_message(
    kube: ControlPlane, namespace: str
) -> None:
    bad = agent_manifest("marcus", 70000)
    result = kube.kubectl("apply", "-n", namespace, "-f", "-", input=bad, check=False)
    assert result.returncode != 0
    assert "spec.port" in result.stderr and "65535" in result.stderr

    crossed = agent_manifest(
        "marcus", 8001, autoscaling={"enabled": True, "minReplicas": 4, "maxReplicas": 2}
    )
    result = kube.kubectl("apply", "-n", namespace, "-f", "-", input=crossed, check=False)
    assert result.returncode != 0 and "minReplicas" in result.stderr

    # A public route is served without an API key, so it may not take writes.
    routes = [{"path": "/upload", "methods": ["GET", "POST"], "target": "/api/x", "public": True}]
    public_write = agent_manifest("marcus", 8001, routes=routes)
    result = kube.kubectl("apply", "-n", namespace, "-f", "-", input=public_write, check=False)
    assert result.returncode != 0
    assert "a public route (no API key at the hub) may only have the methods GET and HEAD" in (
        result.stderr
    ), result.stderr


def test_storage_fields_the_schema_cannot_take_are_rejected_by_the_api_server(
    kube: ControlPlane, namespace: str
) -> None:
    files = [{"name": "files", "emptyDir": {}}]
    for changes, complaint in [
        ({"volumeMounts": [{"name": "files", "mountPath": "/data"}]}, "must name an entry of spec.volumes"),
        ({"volumes": [{"name": "tmp", "emptyDir": {}}]}, "the volume name tmp is reserved"),
        ({"volumes": files, "volumeMounts": [{"name": "files", "mountPath": "/tmp"}]}, "/tmp is the operator's own"),
        ({"envFrom": [{"secretRef": {"name": "a"}, "configMapRef": {"name": "b"}}]}, "exactly one of configMapRef or secretRef"),
        ({"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}, "applies to type RollingUpdate only"),
    ]:  # fmt: skip
        bad = agent_manifest("marcus", 8001, **changes)
        result = kube.kubectl("apply", "-n", namespace, "-f", "-", input=bad, check=False)
        assert result.returncode != 0 and complaint in result.stderr, (changes, result.stderr)


@pytest.fixture
def home(kube: ControlPlane) -> Iterator[str]:
    kube.kubectl("create", "namespace", HOME_NAMESPACE)
    yield HOME_NAMESPACE
    kube.kubectl("delete", "namespace", HOME_NAMESPACE, "--wait=false", check=False)


def test_agents_in_the_operators_namespace_get_the_platform_env_and_their_volumes(
    stack: Stack, kube: ControlPlane, home: str, namespace: str
) -> None:
    storage = {
        "volumes": [{"name": "files", "persistentVolumeClaim": {"claimName": "jamal-files"}}],
        "volumeMounts": [{"name": "files", "mountPath": "/var/lib/skyras"}],
        "envFrom": [{"secretRef": {"name": "jamal-keys"}}],
        "env": [{"name": "SKYRAS_LOG_FORMAT", "value": "text"}],
    }
    for ns in (home, namespace):
        manifest = agent_manifest("jamal", free_port(), **storage)
        kube.kubectl("apply", "-n", ns, "-f", "-", input=manifest)

    def container(ns: str) -> dict[str, Any]:
        deployment = eventually(lambda: get(kube, "deployment", "jamal", ns), what="Deployment")
        return deployment["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]

    env = container(home)["env"]
    names = [e["name"] for e in env]
    # The platform's entries first (in order: the password before the URL
    # that expands it), the Agent's own name wins over the platform's.
    assert names[:2] == ["SKYRAS_REDIS_PASSWORD", "SKYRAS_REDIS_URL"]
    assert names.count("SKYRAS_LOG_FORMAT") == 1
    assert {"name": "SKYRAS_LOG_FORMAT", "value": "text"} in env
    elsewhere = container(namespace)
    assert not {"SKYRAS_REDIS_URL", "SKYRAS_REDIS_PASSWORD"} & {e["name"] for e in elsewhere["env"]}
    for c in (container(home), elsewhere):
        assert c["volumeMounts"] == [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "files", "mountPath": "/var/lib/skyras"},
        ]
        assert c["envFrom"] == [{"secretRef": {"name": "jamal-keys"}}]
    pod = get(kube, "deployment", "jamal", home)["spec"]["template"]["spec"]
    assert pod["volumes"][1] == storage["volumes"][0]
    assert get(kube, "deployment", "jamal", home)["spec"]["strategy"]["type"] == "RollingUpdate"

    # RollingUpdate (with the server's defaults) to Recreate, and the extras removed.
    change = {
        "spec": {"strategy": {"type": "Recreate"}, "volumes": [], "volumeMounts": [], "envFrom": []}
    }
    kube.kubectl("patch", "agent", "jamal", "-n", home, "--type=merge", "-p", json.dumps(change))
    recreated = eventually(
        lambda: (d := get(kube, "deployment", "jamal", home))["spec"]["strategy"]["type"] == "Recreate" and d,
        20, "strategy Recreate",
    )  # fmt: skip
    pod = recreated["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]
    assert "envFrom" not in pod["containers"][0]
    # In sync now: no more patches (no DriftRepaired event after a few reconciles).
    generation = recreated["metadata"]["generation"]
    time.sleep(3 * float(RECONCILE_SECONDS))
    assert get(kube, "deployment", "jamal", home)["metadata"]["generation"] == generation


def test_registration_converges_after_the_hub_comes_back(
    stack: Stack, kube: ControlPlane, namespace: str
) -> None:
    stack.hub.stop()
    try:
        kube.kubectl(
            "apply", "-n", namespace, "-f", "-", input=agent_manifest("giorgio", free_port())
        )
        down = eventually(
            lambda: (c := condition(get(kube, "agent", "giorgio", namespace), "Registered"))["status"] == "False" and c,
            20, "Registered=False",
        )  # fmt: skip
        assert down["reason"] == "HubUnreachable" and down["message"]
    finally:
        stack.hub.start()
    up = eventually(
        lambda: (c := condition(get(kube, "agent", "giorgio", namespace), "Registered"))["status"] == "True" and c,
        30, "Registered=True",
    )  # fmt: skip
    assert up["reason"]
    assert stack.registry("giorgio").status_code == 200


def test_pending_events_scale_the_agent_up_and_it_returns_to_the_minimum_after_cooldown(
    stack: Stack, kube: ControlPlane, namespace: str
) -> None:
    autoscaling = {"enabled": True, "minReplicas": 1, "maxReplicas": 5, "targetLag": 10,
                   "activationLag": 0, "cooldownSeconds": 3, "stabilizationWindowSeconds": 0}  # fmt: skip
    group = "ari"
    client = redis_sync.Redis.from_url(stack.redis_url, decode_responses=True)
    subscribes = yaml.safe_load(agent_manifest("ari", 1))["spec"]["events"]["subscribes"]
    stream = stream_key(channel_for_type(subscribes[0]))
    client.delete(stream)
    client.xgroup_create(stream, group, id="$", mkstream=True)
    kube.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        input=agent_manifest("ari", free_port(), autoscaling=autoscaling),
    )
    eventually(
        lambda: get(kube, "deployment", "ari", namespace)["spec"]["replicas"] == 1, 20, "1 replica"
    )

    for i in range(35):
        client.xadd(stream, {"event": json.dumps({"n": i})})
    eventually(
        lambda: get(kube, "deployment", "ari", namespace)["spec"]["replicas"] == 4,
        20,
        "4 replicas for lag 35",
    )

    while entries := client.xreadgroup(group, "drainer", {stream: ">"}, count=100):
        for _, items in entries:
            client.xack(stream, group, *[entry_id for entry_id, _ in items])
    eventually(
        lambda: get(kube, "deployment", "ari", namespace)["spec"]["replicas"] == 1,
        30,
        "back to 1 after cooldown",
    )
    client.close()
