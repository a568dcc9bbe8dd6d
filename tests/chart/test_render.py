"""helm lint and helm template: what the chart renders, and what it refuses."""

import base64
import json
import re
from typing import Any

import pytest
import yaml

from .conftest import CHART, REPO, by_kind, load_yaml, set_args

NON_DEFAULT = {
    "fullnameOverride": "studio",
    "image.registry": "registry.example.com/skyras",
    "image.tag": "1.2.3",
    "hub.replicas": 3,
    "hub.devMode": True,
    "frontend.enabled": False,
    "postgres.enabled": False,
    "postgres.external.url": "postgresql://skyras:pw@db.example.com:5432/skyras_v2",
    "redis.enabled": False,
    "redis.external.existingSecret": "my-redis",
    "apiKeys.existingSecret": "my-keys",
    "agents.ari.enabled": True,
    "agents.marcus.replicas": 2,
    "agents.marcus.autoscaling": {"enabled": True, "maxReplicas": 8},
    "agents.letitia.env": [{"name": "SKYRAS_S3_BUCKET", "value": "assets"}],
    "agents.custom": {
        "enabled": True,
        "image": {"repository": "me/custom", "tag": "9"},
        "spec": {"port": 8100},
    },
    "operator.watchNamespaces": ["skyras", "studio"],
    "networkPolicy.enabled": False,
    "ingress.enabled": False,
    "tests.enabled": False,
    "migrations.enabled": True,
}


def test_helm_lint_strict_is_clean(helm) -> None:
    res = helm.run("lint", "--strict", str(CHART))
    assert "0 chart(s) failed" in res.stdout, res.stdout
    res = helm.run(
        "lint",
        "--strict",
        str(CHART),
        *set_args({k: v for k, v in NON_DEFAULT.items() if k != "frontend.enabled"}),
    )
    assert "0 chart(s) failed" in res.stdout, res.stdout


def test_defaults_render_every_component(helm) -> None:
    docs = helm.render()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for expected in [
        ("Deployment", "skyras-hub"),
        ("Deployment", "skyras-operator"),
        ("Deployment", "skyras-frontend"),
        ("StatefulSet", "skyras-postgres"),
        ("StatefulSet", "skyras-redis"),
        ("Job", "skyras-migrations"),
        ("Agent", "marcus"),
        ("Agent", "letitia"),
        ("Secret", "skyras-api-keys"),
        ("Secret", "skyras-postgres"),
        ("Secret", "skyras-redis"),
        ("ServiceAccount", "skyras-operator"),
        ("PodDisruptionBudget", "skyras-hub"),
        ("NetworkPolicy", "skyras-agents"),
        ("Pod", "skyras-test-task"),
    ]:
        assert expected in kinds
    assert not any(
        d["kind"] == "Agent" and d["metadata"]["name"] in ("ari", "jamal", "giorgio") for d in docs
    )


def test_agents_take_the_image_from_values_and_the_rest_from_their_file(helm) -> None:
    agents = by_kind(helm.render(), "Agent")
    marcus = agents["marcus"]["spec"]
    assert marcus["image"] == "skyras/marcus:0.1.0"  # default tag: the chart's appVersion
    source = yaml.safe_load((CHART / "files" / "agents" / "marcus.yaml").read_text())["spec"]
    assert marcus["routes"] == source["routes"] and marcus["command"] == source["command"]
    # The database and Redis come from the operator (platform env), not the Agent.
    assert marcus["env"] == source["env"] == []

    agents = by_kind(helm.render(*set_args(NON_DEFAULT)), "Agent")
    assert set(agents) == {"marcus", "letitia", "ari", "custom"}
    assert agents["marcus"]["spec"]["image"] == "registry.example.com/skyras/skyras/marcus:1.2.3"
    assert agents["marcus"]["spec"]["replicas"] == 2
    assert agents["marcus"]["spec"]["autoscaling"] == {
        **source["autoscaling"],
        "enabled": True,
        "maxReplicas": 8,
    }
    assert agents["letitia"]["spec"]["env"][-1] == {"name": "SKYRAS_S3_BUCKET", "value": "assets"}
    assert agents["custom"]["spec"]["port"] == 8100
    # Only the file's own env (the platform's comes from the operator).
    ari_file = load_yaml(REPO / "manifests" / "agents" / "ari.yaml")["spec"]
    assert agents["ari"]["spec"]["env"] == ari_file["env"]


def platform_env(docs: list[dict[str, Any]], deployment: str = "skyras-operator") -> list[Any]:
    """The operator's SKYRAS_OPERATOR_AGENT_ENV as the operator reads it: Kubernetes
    turns $$( into $( in a container's env, and expands $(VAR) of variables above."""
    container = by_kind(docs, "Deployment")[deployment]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    raw = env["SKYRAS_OPERATOR_AGENT_ENV"]["value"]
    # Nothing of the operator's own env may be expanded into it (its Redis password).
    assert not re.search(r"(?<!\$)\$\(", raw), raw
    return json.loads(raw.replace("$$(", "$("))  # type: ignore[no-any-return]


def test_the_operator_gives_every_agent_the_database_redis_and_logging(helm) -> None:
    env = platform_env(helm.render())
    names = [e["name"] for e in env]
    assert names == [
        "SKYRAS_POSTGRES_PASSWORD",
        "SKYRAS_DATABASE_URL",
        "SKYRAS_REDIS_PASSWORD",
        "SKYRAS_REDIS_URL",
        "SKYRAS_LOG_LEVEL",
        "SKYRAS_LOG_FORMAT",
    ]
    by_name = {e["name"]: e for e in env}
    assert by_name["SKYRAS_DATABASE_URL"]["value"] == (
        "postgresql://skyras:$(SKYRAS_POSTGRES_PASSWORD)@skyras-postgres.skyras.svc:5432/skyras_v2"
    )
    assert by_name["SKYRAS_POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "skyras-postgres",
        "key": "password",
    }
    assert by_name["SKYRAS_REDIS_URL"]["value"].startswith("redis://:$(SKYRAS_REDIS_PASSWORD)@")

    by_name = {
        e["name"]: e for e in platform_env(helm.render(*set_args(NON_DEFAULT)), "studio-operator")
    }
    assert by_name["SKYRAS_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "studio-external",
        "key": "database-url",
    }
    assert by_name["SKYRAS_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "my-redis",
        "key": "url",
    }
    assert "SKYRAS_POSTGRES_PASSWORD" not in by_name


# Letitia's files.


def _letitia(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return by_kind(docs, "Agent")["letitia"]["spec"]  # type: ignore[no-any-return]


def _env(spec: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in spec["env"]}


def test_letitias_files_go_to_a_kept_claim_by_default(helm) -> None:
    docs = helm.render()
    claim = by_kind(docs, "PersistentVolumeClaim")["skyras-letitia-files"]
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert "storageClassName" not in claim["spec"]
    spec = _letitia(docs)
    assert spec["volumes"] == [
        {"name": "files", "persistentVolumeClaim": {"claimName": "skyras-letitia-files"}}
    ]
    assert spec["volumeMounts"] == [{"name": "files", "mountPath": "/var/lib/skyras"}]
    # Letitia keeps its files in <data dir>/files: on the volume.
    assert _env(spec)["SKYRAS_DATA_DIR"] == {"name": "SKYRAS_DATA_DIR", "value": "/var/lib/skyras"}
    # The old pod lets go of a ReadWriteOnce volume before the new one starts.
    assert spec["strategy"] == {"type": "Recreate"}
    assert "volumes" not in by_kind(docs, "Agent")["marcus"]["spec"]


def test_an_existing_claim_is_used_and_none_is_made(helm) -> None:
    docs = helm.render(
        *set_args(
            {
                "agents.letitia.storage.persistence.existingClaim": "studio-files",
                "agents.letitia.storage.persistence.accessMode": "ReadWriteMany",
                "agents.letitia.storage.mountPath": "/srv/skyras",
                "agents.letitia.replicas": 3,
            }
        )
    )
    assert by_kind(docs, "PersistentVolumeClaim").keys() == set()
    spec = _letitia(docs)
    assert spec["volumes"][0]["persistentVolumeClaim"] == {"claimName": "studio-files"}
    assert spec["volumeMounts"][0]["mountPath"] == "/srv/skyras"
    assert _env(spec)["SKYRAS_DATA_DIR"]["value"] == "/srv/skyras"
    # Shared by every replica: they may roll one at a time.
    assert "strategy" not in spec and spec["replicas"] == 3


def test_a_claim_of_a_given_class_and_size(helm) -> None:
    docs = helm.render(
        *set_args(
            {
                "agents.letitia.storage.persistence.storageClass": "fast",
                "agents.letitia.storage.persistence.size": "100Gi",
            }
        )
    )
    claim = by_kind(docs, "PersistentVolumeClaim")["skyras-letitia-files"]
    assert claim["spec"]["storageClassName"] == "fast"
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"


def test_without_persistence_the_files_are_on_an_emptydir(helm) -> None:
    docs = helm.render(*set_args({"agents.letitia.storage.persistence.enabled": False}))
    assert "skyras-letitia-files" not in by_kind(docs, "PersistentVolumeClaim")
    spec = _letitia(docs)
    assert spec["volumes"] == [{"name": "files", "emptyDir": {}}]
    assert "strategy" not in spec


def test_with_a_bucket_the_files_go_to_s3_with_keys_from_a_secret(helm) -> None:
    s3 = {
        "agents.letitia.storage.s3.bucket": "studio-assets",
        "agents.letitia.storage.s3.endpointUrl": "http://minio.storage:9000",
        "agents.letitia.storage.s3.region": "eu-west-1",
        "agents.letitia.storage.s3.accessKeyId": "AKIDEXAMPLE",
        "agents.letitia.storage.s3.secretAccessKey": "wJalrXUtnFEMI",
        "agents.letitia.replicas": 2,
    }
    docs = helm.render(*set_args(s3))
    assert by_kind(docs, "PersistentVolumeClaim").keys() == set()
    spec = _letitia(docs)
    assert "volumes" not in spec and "strategy" not in spec and spec["replicas"] == 2
    env = _env(spec)
    assert env["SKYRAS_S3_BUCKET"]["value"] == "studio-assets"
    assert env["SKYRAS_S3_ENDPOINT_URL"]["value"] == "http://minio.storage:9000"
    assert env["SKYRAS_S3_REGION"]["value"] == "eu-west-1"
    assert "SKYRAS_DATA_DIR" not in env
    for name, key in (
        ("ACCESS_KEY_ID", "access-key-id"),
        ("SECRET_ACCESS_KEY", "secret-access-key"),
    ):
        ref = env[f"SKYRAS_S3_{name}"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "skyras-letitia-s3", "key": key}
    secret = by_kind(docs, "Secret")["skyras-letitia-s3"]
    assert base64.b64decode(secret["data"]["access-key-id"]).decode() == "AKIDEXAMPLE"
    assert base64.b64decode(secret["data"]["secret-access-key"]).decode() == "wJalrXUtnFEMI"
    # The agents' NetworkPolicy names no outside address: S3 gets its own.
    policy = by_kind(docs, "NetworkPolicy")["skyras-letitia-s3"]
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "letitia"
    assert policy["spec"]["egress"] == [{"ports": [{"port": 9000}]}]

    docs = helm.render(
        *set_args(
            {
                "agents.letitia.storage.s3.bucket": "studio-assets",
                "agents.letitia.storage.s3.existingSecret": "s3-keys",
            }
        )
    )
    assert "skyras-letitia-s3" not in by_kind(docs, "Secret")
    env = _env(_letitia(docs))
    assert env["SKYRAS_S3_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"] == "s3-keys"
    assert "SKYRAS_S3_ENDPOINT_URL" not in env
    policy = by_kind(docs, "NetworkPolicy")["skyras-letitia-s3"]
    assert policy["spec"]["egress"] == [{"ports": [{"port": 443}]}]


def test_the_values_env_wins_over_the_storage_env(helm) -> None:
    docs = helm.render(
        *set_args(
            {"agents.letitia.env": [{"name": "SKYRAS_DATA_DIR", "value": "/var/lib/skyras/v2"}]}
        )
    )
    env = _letitia(docs)["env"]
    assert [e for e in env if e["name"] == "SKYRAS_DATA_DIR"] == [
        {"name": "SKYRAS_DATA_DIR", "value": "/var/lib/skyras/v2"}
    ]


def _pods(docs):
    for d in docs:
        if d["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield d["metadata"]["name"], d["spec"]["template"]["spec"]
        elif d["kind"] == "Pod":
            yield d["metadata"]["name"], d["spec"]


def test_every_pod_is_locked_down(helm) -> None:
    for name, pod in _pods(helm.render()):
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for c in pod.get("initContainers", []) + pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, (name, c["name"])
            assert sc["allowPrivilegeEscalation"] is False, (name, c["name"])
            assert sc["capabilities"] == {"drop": ["ALL"]}, (name, c["name"])
            assert (
                c["resources"].get("requests")
                or pod.get("restartPolicy") == "Never"
                or c["resources"]
            ), (name, c["name"])
        # Only the operator and the drain hook talk to the API server.
        if name not in ("skyras-operator", "skyras-drain"):
            assert pod["automountServiceAccountToken"] is False, name


def test_operator_gets_a_registry_key_and_the_hub_url(helm) -> None:
    op = by_kind(helm.render(), "Deployment")["skyras-operator"]["spec"]["template"]["spec"]
    env = {e["name"]: e for e in op["containers"][0]["env"]}
    assert env["SKYRAS_HUB_URL"]["value"] == "http://skyras-hub.skyras.svc:8000"
    assert env["SKYRAS_HUB_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "skyras-api-keys",
        "key": "operator",
    }
    assert "--liveness=http://0.0.0.0:8080/healthz" in op["containers"][0]["args"]
    assert op["containers"][0]["livenessProbe"]["httpGet"]["path"] == "/healthz"
    job = by_kind(helm.render(), "Job")["skyras-migrations"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,pre-upgrade"
    assert "operator=registry" in job["spec"]["template"]["spec"]["containers"][0]["command"]


def test_generated_secrets_look_like_hub_keys(helm) -> None:
    secret = by_kind(helm.render(), "Secret")["skyras-api-keys"]
    for key in ("operator", "frontend", "admin", "test"):
        assert re.fullmatch(
            r"sk_[a-z0-9]{8}_[A-Za-z0-9]{43}", base64.b64decode(secret["data"][key]).decode()
        )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"hub.replicas": -1}, "hub/replicas"),
        ({"agents.marcus.colour": "blue"}, "colour"),
        ({"agents.Bad_Name": {"enabled": True, "image": {"repository": "x"}}}, "Bad_Name"),
        ({"hub.authMode": "open"}, "authMode"),
        ({"logLevel": "LOUD"}, "logLevel"),
        ({"postgres.persistence.size": "big"}, "size"),
        ({"hbu": {"replicas": 1}}, "hbu"),
        ({"agents.letitia.storage.mountPath": "/tmp"}, "mountPath"),
        ({"agents.letitia.storage.mountPath": "data"}, "mountPath"),
        ({"agents.letitia.storage.persistence.accessMode": "ReadOnlyMany"}, "accessMode"),
        ({"agents.letitia.storage.persistence.size": "lots"}, "size"),
        ({"agents.letitia.storage.s3.bucket": "Not A Bucket"}, "bucket"),
        ({"agents.letitia.storage.s3.endpointUrl": "minio:9000"}, "endpointUrl"),
        ({"agents.letitia.storage.s3.colour": "red"}, "colour"),
        ({"operator.drain.onTimeout": "never"}, "onTimeout"),
        ({"operator.drain.timeoutSeconds": -1}, "timeoutSeconds"),
        ({"networkPolicy.agentEgress": {"to": []}}, "agentEgress"),
        ({"networkPolicy.agentEgress": [{"ports": [{"port": 443}], "colour": "red"}]}, "colour"),
    ],
)
def test_schema_rejects_nonsense_with_a_readable_message(helm, values, message) -> None:
    res = helm.template(*set_args(values), check=False)
    assert res.returncode != 0
    assert (
        "values don't meet the specifications of the schema" in res.stderr or "schema" in res.stderr
    )
    assert message in res.stderr, res.stderr


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"postgres.enabled": False},
            "set postgres.external.url or postgres.external.existingSecret",
        ),
        ({"redis.enabled": False}, "set redis.external.url or redis.external.existingSecret"),
        (
            {"agents.newbie": {"enabled": True, "image": {"repository": "me/newbie"}}},
            "agents.newbie.spec must give at least port",
        ),
        ({"ingress.enabled": True, "ingress.tls.enabled": True}, "give ingress.tls.secretName"),
        (
            {"agents.letitia.replicas": 2},
            "agents.letitia: 2 replicas would each keep their own files (a ReadWriteOnce claim): "
            "set agents.letitia.storage.persistence.accessMode=ReadWriteMany",
        ),
        (
            {"agents.letitia.autoscaling": {"enabled": True}},
            "autoscaling up to 5 replicas would each keep their own files",
        ),
        (
            {"agents.letitia.spec": {"autoscaling": {"enabled": True, "maxReplicas": 3}}},
            "autoscaling up to 3 replicas",
        ),
        (
            {"agents.letitia.replicas": 2, "agents.letitia.storage.persistence.enabled": False},
            "(an emptyDir): set agents.letitia.storage.persistence.accessMode=ReadWriteMany",
        ),
        (
            {
                "agents.letitia.replicas": 2,
                "agents.letitia.storage.persistence.accessMode": "ReadWriteOncePod",
            },
            "or agents.letitia.storage.s3.bucket, or run one replica",
        ),
        (
            {"agents.letitia.storage.s3.endpointUrl": "http://minio:9000"},
            "name the bucket (agents.letitia.storage.s3.bucket)",
        ),
        (
            {
                "agents.letitia.storage.s3.bucket": "assets",
                "agents.letitia.storage.s3.accessKeyId": "a",
            },
            "accessKeyId and secretAccessKey go together",
        ),
        (
            {
                "agents.letitia.storage.s3.bucket": "assets",
                "agents.letitia.storage.s3.existingSecret": "k",
                "agents.letitia.storage.s3.accessKeyId": "a",
                "agents.letitia.storage.s3.secretAccessKey": "b",
            },
            "existingSecret or as accessKeyId/secretAccessKey, not both",
        ),
    ],
)
def test_contradictory_values_fail_with_what_to_do(helm, values, message) -> None:
    res = helm.template(*set_args(values), check=False)
    assert res.returncode != 0
    assert "SkyRas values are not valid" in res.stderr and message in res.stderr, res.stderr


# helm uninstall: the pre-delete hook that drains the release's Agents.

DRAIN_HOOK = {"ServiceAccount", "Role", "RoleBinding", "Job"}


def _drain(docs: list[dict[str, Any]], name: str = "skyras-drain") -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in docs if d["metadata"]["name"] == name and d["kind"] in DRAIN_HOOK}


def _args(job: dict[str, Any]) -> dict[str, str]:
    container = job["spec"]["template"]["spec"]["containers"][0]
    return dict(a.removeprefix("--").split("=", 1) for a in container["args"])


def test_a_pre_delete_hook_drains_the_releases_agents_with_its_own_account(helm) -> None:
    docs = helm.render()
    hook = _drain(docs)
    assert set(hook) == DRAIN_HOOK
    for doc in hook.values():
        annotations = doc["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-delete", doc["kind"]
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        assert doc["metadata"]["namespace"] == "skyras"
    # The account, its Role and the binding exist before the Job starts.
    weights = [int(hook[k]["metadata"]["annotations"]["helm.sh/hook-weight"]) for k in
               ("ServiceAccount", "Role", "RoleBinding", "Job")]  # fmt: skip
    assert weights == sorted(weights) and len(set(weights)) == 4
    assert hook["Role"]["rules"] == [
        {"apiGroups": ["skyras.io"], "resources": ["agents"], "verbs": ["list", "get", "delete", "patch"]}
    ]  # fmt: skip
    assert hook["RoleBinding"]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "skyras-drain"
    }  # fmt: skip
    assert hook["RoleBinding"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "skyras-drain", "namespace": "skyras"}
    ]

    job = hook["Job"]
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "skyras/operator:0.1.0"
    assert container["command"] == ["python", "-m", "skyras_operator.drain"]
    args = _args(job)
    assert args["namespace"] == "skyras"
    assert args["timeout"] == "120" and args["on-timeout"] == "remove-finalizer"
    assert job["spec"]["activeDeadlineSeconds"] > 120 and job["spec"]["backoffLimit"] == 0
    assert pod["serviceAccountName"] == "skyras-drain" and pod["automountServiceAccountToken"]
    assert pod["restartPolicy"] == "Never"
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert pod["securityContext"] == values["podSecurityContext"]
    assert container["securityContext"] == values["containerSecurityContext"]
    assert container["resources"] == values["operator"]["drain"]["resources"]

    # The selector takes every Agent of this release, and nothing of another release.
    selector = dict(kv.split("=") for kv in args["selector"].split(","))
    assert selector["app.kubernetes.io/instance"] == "skyras"
    for agent in by_kind(docs, "Agent").values():
        assert selector.items() <= agent["metadata"]["labels"].items(), agent["metadata"]["name"]
    out = helm.run("template", "other", str(CHART), "--namespace", "skyras").stdout
    other = by_kind([d for d in yaml.safe_load_all(out) if d], "Agent")["marcus"]
    assert not selector.items() <= other["metadata"]["labels"].items()


def test_the_drain_hook_follows_its_values(helm) -> None:
    docs = helm.render(
        *set_args(
            {
                **NON_DEFAULT,
                "operator.drain.timeoutSeconds": 30,
                "operator.drain.onTimeout": "fail",
            }
        )
    )
    job = _drain(docs, "studio-drain")["Job"]
    assert _args(job)["timeout"] == "30" and _args(job)["on-timeout"] == "fail"
    assert job["spec"]["activeDeadlineSeconds"] > 30
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/skyras/skyras/operator:1.2.3"

    docs = helm.render(*set_args({"operator.drain.enabled": False}))
    assert _drain(docs) == {}
    assert "skyras-drain" not in by_kind(docs, "NetworkPolicy")


def _policy(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return by_kind(docs, "NetworkPolicy")[name]["spec"]  # type: ignore[no-any-return]


DNS = {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
AGENTS = {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "agent",
                                          "app.kubernetes.io/part-of": "skyras"}}}  # fmt: skip
HUB = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "skyras",
                                       "app.kubernetes.io/instance": "skyras",
                                       "app.kubernetes.io/component": "hub"}}}  # fmt: skip


def test_the_drain_reaches_the_api_server_and_dns_only(helm) -> None:
    policy = _policy(helm.render(), "skyras-drain")
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "drain"
    assert policy["policyTypes"] == ["Ingress", "Egress"] and policy["ingress"] == []
    assert policy["egress"] == [{"ports": [{"port": 443}, {"port": 6443}]}, DNS]
    # Labels of the Job's pods match the policy.
    job = _drain(helm.render())["Job"]
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()

    policy = _policy(
        helm.render(*set_args({"operator.apiServer.cidrs": ["10.0.0.1/32"]})), "skyras-drain"
    )
    assert policy["egress"][0] == {
        "ports": [{"port": 443}, {"port": 6443}], "to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}]
    }  # fmt: skip
    operator = _policy(
        helm.render(*set_args({"operator.apiServer.cidrs": ["10.0.0.1/32"]})), "skyras-operator"
    )
    assert policy["egress"][0] in operator["egress"]


def test_agents_reach_the_hub_and_each_other_and_the_hub_takes_them(helm) -> None:
    docs = helm.render()
    agents = _policy(docs, "skyras-agents")
    # Giorgio and Jamal fetch Letitia's files through the hub's /api/v2.
    assert {"to": [HUB], "ports": [{"port": 8000}]} in agents["egress"]
    # Ari calls Letitia directly (SKYRAS_LETITIA_URL), on the agent's port.
    assert {"to": [AGENTS], "ports": [{"port": "http"}]} in agents["egress"]
    assert {"from": [AGENTS], "ports": [{"port": "http"}]} in agents["ingress"]
    assert {"from": [HUB]} in agents["ingress"]
    assert DNS in agents["egress"]
    # No rule open to anywhere by default: every other rule names its peer.
    assert all("to" in rule for rule in agents["egress"] if rule != DNS)

    hub = _policy(docs, "skyras-hub")
    assert AGENTS in hub["ingress"][0]["from"] and hub["ingress"][0]["ports"] == [{"port": "http"}]
    # The operator names the agents' container port `http` (the rules above use it).
    from skyras_operator import constants

    assert constants.PORT_NAME == "http"


def test_agent_egress_values_reach_external_services(helm) -> None:
    extra = [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 443}]},
        {"to": [{"namespaceSelector": {"matchLabels": {"name": "n8n"}}}], "ports": [{"port": 5678, "protocol": "TCP"}]},
    ]  # fmt: skip
    agents = _policy(helm.render(*set_args({"networkPolicy.agentEgress": extra})), "skyras-agents")
    assert agents["egress"][-2:] == extra
    assert _policy(helm.render(), "skyras-agents")["egress"][-1] == DNS
