"""helm lint and helm template: what the chart renders, and what it refuses."""

import base64
import json
import re
from typing import Any

import pytest
import yaml

from .conftest import CHART, by_kind, set_args

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
    assert agents["ari"]["spec"]["env"] == []


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
    # The agents' NetworkPolicy allows Postgres, Redis and DNS only: S3 gets its own.
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
        if name != "skyras-operator":
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
