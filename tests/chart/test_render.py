"""helm lint and helm template: what the chart renders, and what it refuses."""

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
    env = {e["name"]: e for e in marcus["env"]}
    assert env["SKYRAS_DATABASE_URL"]["value"].startswith(
        "postgresql://skyras:$(SKYRAS_POSTGRES_PASSWORD)@skyras-postgres."
    )
    assert env["SKYRAS_POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "skyras-postgres"
    names = [e["name"] for e in marcus["env"]]
    assert names.index("SKYRAS_POSTGRES_PASSWORD") < names.index("SKYRAS_DATABASE_URL")

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
    env = {e["name"]: e for e in agents["ari"]["spec"]["env"]}
    assert env["SKYRAS_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "studio-external",
        "key": "database-url",
    }
    assert env["SKYRAS_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "my-redis",
        "key": "url",
    }


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
    import base64
    import re

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
    ],
)
def test_contradictory_values_fail_with_what_to_do(helm, values, message) -> None:
    res = helm.template(*set_args(values), check=False)
    assert res.returncode != 0
    assert "SkyRas values are not valid" in res.stderr and message in res.stderr, res.stderr
