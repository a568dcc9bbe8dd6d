"""builders: an Agent in, Deployment/Service/registration/status out."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from skyras_operator import builders, constants


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


# Spec checks.


def test_every_sample_parses(agent_body: Any) -> None:
    for name in ("marcus", "letitia", "ari", "jamal", "giorgio"):
        agent = builders.parse_spec(agent_body(name)["spec"])
        assert agent.version == "0.1.0"
        assert agent.routes and agent.routes[-1].path == "/chat"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"image": ""}, "spec.image"),
        ({"image": None}, "spec.image"),
        ({"port": 0}, "spec.port"),
        ({"port": 70000}, "spec.port"),
        ({"port": "8001"}, "spec.port"),
        ({"replicas": 51}, "replicas"),
        ({"replicas": -1}, "replicas"),
        ({"autoscaling": {"enabled": True, "minReplicas": 4, "maxReplicas": 2}}, "minReplicas"),
        ({"autoscaling": {"targetLag": 0}}, "targetLag"),
        ({"routes": [{"path": "task", "methods": ["POST"], "target": "/api/tasks"}]}, "path"),
        ({"routes": [{"path": "/t", "methods": ["FETCH"], "target": "/api/t"}]}, "methods"),
        ({"routes": [{"path": "/t", "methods": [], "target": "/api/t"}]}, "methods"),
        ({"routes": [{"path": "/t", "methods": ["GET"], "target": "api"}]}, "target"),
        (
            {
                "routes": [
                    {"path": "/t", "methods": ["GET", "POST"], "target": "/a", "public": True}
                ]
            },
            r"spec.routes\[0\] is public \(no API key\), so its methods must be GET/HEAD only, not POST",
        ),
        (
            {"routes": [{"path": "/t", "methods": ["GET"], "target": "/a", "public": "yes"}]},
            r"spec.routes\[0\].public must be true or false",
        ),
        (
            {
                "routes": [
                    {"path": "/t", "methods": ["GET"], "target": "/a"},
                    {"path": "/t", "methods": ["POST"], "target": "/a"},
                ]
            },
            "twice",
        ),
        ({"events": {"publishes": ["TaskCreated"]}}, "publishes"),
        ({"env": [{"name": "A", "value": "1", "valueFrom": {}}]}, "not both"),
        ({"env": [{"name": "A", "value": 1}]}, "string"),
        ({"imagePullPolicy": "Sometimes"}, "imagePullPolicy"),
        ({"volumes": [{"name": "tmp", "emptyDir": {}}]}, "tmp is reserved"),
        ({"volumes": [{"name": "Data", "emptyDir": {}}]}, r"volumes\[0\]\.name"),
        ({"volumes": [{"name": "data"}]}, "exactly one source"),
        ({"volumes": [{"name": "data", "emptyDir": {}, "secret": {}}]}, "exactly one source"),
        (
            {"volumes": [{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]},
            "twice",
        ),
        ({"volumes": {"name": "data"}}, "spec.volumes must be a list"),
        (
            {"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            "names no entry of spec.volumes",
        ),
        (
            {
                "volumes": [{"name": "data", "emptyDir": {}}],
                "volumeMounts": [{"name": "data", "mountPath": "data"}],
            },
            "absolute path",
        ),
        (
            {
                "volumes": [{"name": "data", "emptyDir": {}}],
                "volumeMounts": [{"name": "data", "mountPath": "/tmp/"}],
            },
            "/tmp is the operator's own",
        ),
        (
            {
                "volumes": [{"name": "data", "emptyDir": {}}],
                "volumeMounts": [
                    {"name": "data", "mountPath": "/data"},
                    {"name": "data", "mountPath": "/data/"},
                ],
            },
            "mounted twice",
        ),
        (
            {
                "volumes": [{"name": "data", "emptyDir": {}}],
                "volumeMounts": [{"name": "data", "mountPath": "/d", "subPath": "../etc"}],
            },
            "subPath",
        ),
        (
            {
                "volumes": [{"name": "data", "emptyDir": {}}],
                "volumeMounts": [{"name": "data", "mountPath": "/d", "readOnly": "yes"}],
            },
            "readOnly",
        ),
        ({"envFrom": [{"prefix": "X_"}]}, "exactly one of configMapRef or secretRef"),
        (
            {"envFrom": [{"secretRef": {"name": "a"}, "configMapRef": {"name": "b"}}]},
            "exactly one",
        ),
        ({"envFrom": [{"secretRef": {}}]}, r"envFrom\[0\]\.secretRef\.name"),
        ({"envFrom": [{"secretRef": {"name": "s"}, "prefix": "1 X"}]}, "prefix"),
        ({"strategy": {"type": "BlueGreen"}}, "RollingUpdate or Recreate"),
        (
            {"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}},
            "RollingUpdate only",
        ),
        ({"strategy": {"rollingUpdate": {"maxSurge": "lots"}}}, "percentage"),
        ({"strategy": "Recreate"}, "spec.strategy must be an object"),
    ],
)
def test_bad_specs_are_refused_with_the_field_named(
    agent_body: Any, change: dict[str, Any], complaint: str
) -> None:
    body = agent_body("marcus", **change)
    with pytest.raises(builders.InvalidAgentSpec, match=complaint):
        builders.parse_spec(body["spec"])


def test_a_missing_spec_is_refused() -> None:
    with pytest.raises(builders.InvalidAgentSpec, match="spec is missing"):
        builders.parse_spec(None)


def test_defaults_apply_when_the_api_server_did_not() -> None:
    agent = builders.parse_spec({"image": "skyras/x:1.2.3", "port": 9000})
    assert agent.replicas == 1
    assert agent.autoscaling.enabled is False
    assert (agent.autoscaling.min_replicas, agent.autoscaling.max_replicas) == (1, 5)
    assert agent.routes == ()
    assert agent.image_pull_policy == "IfNotPresent"


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("skyras/marcus:0.1.0", "0.1.0"),
        ("registry.local:5000/skyras/marcus:1.2", "1.2"),
        ("registry.local:5000/skyras/marcus", "latest"),
        ("skyras/marcus", "latest"),
        ("skyras/marcus:0.2.0@sha256:abc", "0.2.0"),
    ],
)
def test_version_is_the_image_tag(image: str, version: str) -> None:
    assert builders.image_version(image) == version


@pytest.mark.parametrize("name", ["marcus", "a", "ari-2"])
def test_dns_label_names_pass(name: str) -> None:
    builders.check_name(name)


@pytest.mark.parametrize("name", ["Marcus", "2ari", "ari_2", "a" * 64, "ari-"])
def test_names_that_cannot_name_a_service_are_refused(name: str) -> None:
    with pytest.raises(builders.InvalidAgentSpec):
        builders.check_name(name)


# Deployment.


def test_deployment_runs_the_command_on_the_port_with_health_probes(agent_body: Any) -> None:
    body = agent_body("marcus")
    deployment = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=2)
    container = _container(deployment)
    assert deployment["spec"]["replicas"] == 2
    assert container["image"] == "skyras/marcus:0.1.0"
    assert container["command"] == [
        "uvicorn",
        "skyras_marcus.main:app",
        "--host",
        "0.0.0.0",
        "--port",
        "8001",
    ]
    assert container["ports"] == [{"name": "http", "containerPort": 8001, "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}


def test_deployment_is_hardened(agent_body: Any) -> None:
    body = agent_body("letitia")
    deployment = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    # The read-only root needs one writable place.
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False


def test_deployment_resources_default_or_from_spec(agent_body: Any) -> None:
    plain = agent_body("marcus")
    given = agent_body("ari")
    default = _container(
        builders.build_deployment(plain, builders.parse_spec(plain["spec"]), replicas=1)
    )
    own = _container(
        builders.build_deployment(given, builders.parse_spec(given["spec"]), replicas=1)
    )
    assert default["resources"] == constants.DEFAULT_RESOURCES
    assert own["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "512Mi"},
    }


def test_deployment_labels_selector_and_owner(agent_body: Any) -> None:
    body = agent_body("marcus")
    deployment = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    labels = deployment["metadata"]["labels"]
    assert labels[constants.LABEL_NAME] == "marcus"
    assert labels[constants.LABEL_VERSION] == "0.1.0"
    assert labels[constants.LABEL_MANAGED_BY] == "skyras-operator"
    # The selector never carries the version: it is immutable.
    assert deployment["spec"]["selector"]["matchLabels"] == builders.selector_labels("marcus")
    assert constants.LABEL_VERSION not in deployment["spec"]["selector"]["matchLabels"]
    template_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert builders.selector_labels("marcus").items() <= template_labels.items()
    assert deployment["metadata"]["namespace"] == "skyras"
    (owner,) = deployment["metadata"]["ownerReferences"]
    assert owner["kind"] == "Agent"
    assert owner["apiVersion"] == "skyras.io/v1alpha1"
    assert owner["uid"] == "uid-marcus"
    assert owner["controller"] is True
    assert builders.is_owned_by(deployment, "uid-marcus")
    assert not builders.is_owned_by(deployment, "someone-else")


def test_user_env_overrides_the_operators_and_keeps_value_from(agent_body: Any) -> None:
    env = [
        {"name": constants.ENV_AGENT_NAME, "value": "custom"},
        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
    ]
    body = agent_body("marcus", env=env)
    container = _container(
        builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    )
    by_name = {e["name"]: e for e in container["env"]}
    assert by_name[constants.ENV_AGENT_NAME] == {
        "name": constants.ENV_AGENT_NAME,
        "value": "custom",
    }
    assert [e["name"] for e in container["env"]].count(constants.ENV_AGENT_NAME) == 1
    assert by_name["DB"]["valueFrom"]["secretKeyRef"]["key"] == "url"
    assert by_name[constants.ENV_CONSUMER_NAME]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.name"
    )


STORAGE = {
    "volumes": [
        {"name": "files", "persistentVolumeClaim": {"claimName": "skyras-letitia-files"}},
        {"name": "certs", "secret": {"secretName": "ca"}},
    ],
    "volumeMounts": [
        {"name": "files", "mountPath": "/var/lib/skyras"},
        {"name": "certs", "mountPath": "/etc/ca", "readOnly": True, "subPath": "pem"},
    ],
    "envFrom": [{"secretRef": {"name": "letitia-s3"}, "prefix": "SKYRAS_"}],
    "strategy": {"type": "Recreate"},
}


def test_volumes_mounts_env_from_and_strategy_reach_the_deployment(agent_body: Any) -> None:
    body = agent_body("letitia", **copy.deepcopy(STORAGE))
    deployment = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    # The built-in /tmp comes first, the Agent's own after it.
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {}}, *STORAGE["volumes"]]
    assert container["volumeMounts"] == [
        {"name": "tmp", "mountPath": "/tmp"},
        *STORAGE["volumeMounts"],
    ]
    assert container["envFrom"] == STORAGE["envFrom"]
    assert deployment["spec"]["strategy"] == {"type": "Recreate", "rollingUpdate": None}


def test_without_extras_the_deployment_rolls_and_has_only_tmp(agent_body: Any) -> None:
    body = agent_body("marcus")
    deployment = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate"}
    assert deployment["spec"]["template"]["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {}}]
    assert _container(deployment)["envFrom"] == []
    body = agent_body(
        "marcus", strategy={"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "50%"}}
    )
    deployment = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "50%"},
    }


PLATFORM_ENV = (
    {"name": "SKYRAS_POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "pg", "key": "p"}}},
    {"name": "SKYRAS_DATABASE_URL", "value": "postgresql://u:$(SKYRAS_POSTGRES_PASSWORD)@db/x"},
    {"name": "SKYRAS_LOG_LEVEL", "value": "INFO"},
)


def test_platform_env_comes_first_and_the_agents_own_names_win(agent_body: Any) -> None:
    body = agent_body("marcus", env=[{"name": "SKYRAS_LOG_LEVEL", "value": "DEBUG"}])
    container = _container(
        builders.build_deployment(
            body, builders.parse_spec(body["spec"]), replicas=1, platform_env=PLATFORM_ENV
        )
    )
    names = [e["name"] for e in container["env"]]
    # The password before the URL that expands it; the Agent's DEBUG, once, last.
    assert names == [
        "SKYRAS_POSTGRES_PASSWORD",
        "SKYRAS_DATABASE_URL",
        constants.ENV_AGENT_NAME,
        constants.ENV_CONSUMER_NAME,
        "SKYRAS_LOG_LEVEL",
    ]
    assert container["env"][-1] == {"name": "SKYRAS_LOG_LEVEL", "value": "DEBUG"}
    assert container["env"][1] == PLATFORM_ENV[1]


def test_building_does_not_touch_the_agent(agent_body: Any) -> None:
    body = agent_body("ari")
    before = copy.deepcopy(body)
    agent = builders.parse_spec(body["spec"])
    builders.build_deployment(body, agent, replicas=3)
    builders.build_service(body, agent)
    assert body == before


def test_service_exposes_the_agents_port_to_its_pods(agent_body: Any) -> None:
    body = agent_body("letitia")
    service = builders.build_service(body, builders.parse_spec(body["spec"]))
    assert service["spec"]["selector"] == builders.selector_labels("letitia")
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8002, "targetPort": "http", "protocol": "TCP"}
    ]
    assert service["metadata"]["ownerReferences"][0]["uid"] == "uid-letitia"


# Drift.


def _as_server_returns(obj: dict[str, Any]) -> dict[str, Any]:
    """What the API server adds: defaults, status, bookkeeping, canonical quantities."""
    served = copy.deepcopy(obj)
    served["metadata"].update(uid="d1", resourceVersion="7", generation=1)
    served["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    served["spec"].update(revisionHistoryLimit=10, progressDeadlineSeconds=600)
    pod = served["spec"]["template"]["spec"]
    pod.update(restartPolicy="Always", dnsPolicy="ClusterFirst", schedulerName="default-scheduler")
    if served["spec"]["strategy"]["type"] == "RollingUpdate":
        served["spec"]["strategy"].setdefault(
            "rollingUpdate", {"maxSurge": "25%", "maxUnavailable": "25%"}
        )
    else:
        served["spec"]["strategy"].pop("rollingUpdate")
    for volume in pod["volumes"]:
        if "secret" in volume:
            volume["secret"]["defaultMode"] = 420
    for container in pod["containers"]:
        container.update(terminationMessagePath="/dev/termination-log")
        if not container["envFrom"]:
            del container["envFrom"]  # empty lists are not stored
        container["readinessProbe"]["successThreshold"] = 1
        container["readinessProbe"]["httpGet"]["scheme"] = "HTTP"
        container["resources"] = {
            "requests": {"cpu": "0.05", "memory": "64Mi"},
            "limits": {"memory": "256Mi"},
        }
    served["status"] = {"replicas": 1, "availableReplicas": 1}
    return served


@pytest.mark.parametrize("extras", [{}, STORAGE], ids=["plain", "with-storage"])
def test_a_child_as_the_server_returns_it_is_in_sync(
    agent_body: Any, extras: dict[str, Any]
) -> None:
    body = agent_body("marcus", **copy.deepcopy(extras))
    desired = builders.build_deployment(
        body, builders.parse_spec(body["spec"]), replicas=1, platform_env=PLATFORM_ENV
    )
    assert builders.merge_patch_for(desired, _as_server_returns(desired)) == {}


def _pod_patch(patch: dict[str, Any]) -> dict[str, Any]:
    assert list(patch) == ["spec"], patch
    return patch["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def test_removed_or_edited_volumes_mounts_and_env_from_are_drift(agent_body: Any) -> None:
    body = agent_body("letitia", **copy.deepcopy(STORAGE))
    desired = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)

    actual = _as_server_returns(desired)
    actual["spec"]["template"]["spec"]["volumes"].pop()  # someone dropped the certs volume
    patch = _pod_patch(builders.merge_patch_for(desired, actual))
    assert patch["volumes"] == desired["spec"]["template"]["spec"]["volumes"]

    actual = _as_server_returns(desired)
    actual["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][2]["mountPath"] = "/x"
    del actual["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    (container,) = _pod_patch(builders.merge_patch_for(desired, actual))["containers"]
    assert container["volumeMounts"][2]["mountPath"] == "/etc/ca"
    assert container["envFrom"] == STORAGE["envFrom"]

    # The Agent drops its extras: the Deployment loses them too.
    plain = agent_body("letitia")
    without = builders.build_deployment(plain, builders.parse_spec(plain["spec"]), replicas=1)
    (container,) = _pod_patch(builders.merge_patch_for(without, actual))["containers"]
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    patch = builders.merge_patch_for(without, _as_server_returns(desired))
    assert patch["spec"]["strategy"] == {"type": "RollingUpdate"}
    assert patch["spec"]["template"]["spec"]["containers"][0]["envFrom"] == []


def test_switching_to_recreate_removes_the_rolling_update_defaults(agent_body: Any) -> None:
    body = agent_body("letitia")
    rolling = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    body = agent_body("letitia", strategy={"type": "Recreate"})
    recreate = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    patch = builders.merge_patch_for(recreate, _as_server_returns(rolling))
    assert patch == {"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None}}}


def test_a_changed_platform_env_is_drift(agent_body: Any) -> None:
    body = agent_body("marcus")
    agent = builders.parse_spec(body["spec"])
    old = builders.build_deployment(body, agent, replicas=1)
    new = builders.build_deployment(body, agent, replicas=1, platform_env=PLATFORM_ENV)
    (container,) = _pod_patch(builders.merge_patch_for(new, _as_server_returns(old)))["containers"]
    assert [e["name"] for e in container["env"]][:2] == [
        "SKYRAS_POSTGRES_PASSWORD",
        "SKYRAS_DATABASE_URL",
    ]


def test_a_hand_edited_image_is_patched_back_and_nothing_else(agent_body: Any) -> None:
    body = agent_body("marcus")
    desired = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    actual = _as_server_returns(desired)
    actual["spec"]["template"]["spec"]["containers"][0]["image"] = "evil/marcus:latest"
    actual["metadata"]["labels"]["added-by-hand"] = "yes"
    patch = builders.merge_patch_for(desired, actual)
    assert list(patch) == ["spec"]
    assert list(patch["spec"]) == ["template"]
    (container,) = patch["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "skyras/marcus:0.1.0"


def test_a_hand_scaled_deployment_differs_only_in_replicas(agent_body: Any) -> None:
    body = agent_body("marcus")
    desired = builders.build_deployment(body, builders.parse_spec(body["spec"]), replicas=1)
    actual = _as_server_returns(desired)
    actual["spec"]["replicas"] = 4
    assert builders.merge_patch_for(desired, actual) == {"spec": {"replicas": 1}}


def test_a_port_change_patches_only_the_service_ports(agent_body: Any) -> None:
    body = agent_body("marcus")
    old = builders.build_service(body, builders.parse_spec(body["spec"]))
    body["spec"]["port"] = 9001
    new = builders.build_service(body, builders.parse_spec(body["spec"]))
    served = copy.deepcopy(old)
    served["spec"]["clusterIP"] = "10.0.0.7"
    patch = builders.merge_patch_for(new, served)
    assert patch == {"spec": {"ports": new["spec"]["ports"]}}


# Registration.


def test_registration_body_follows_the_registry_contract(agent_body: Any) -> None:
    agent = builders.parse_spec(agent_body("letitia")["spec"])
    endpoint = builders.render_endpoint(
        "http://{name}.{namespace}.svc:{port}", name="letitia", namespace="skyras", port=8002
    )
    registration = builders.build_registration(agent, endpoint=endpoint)
    assert registration["endpoint"] == "http://letitia.skyras.svc:8002"
    assert registration["version"] == "0.1.0"
    assert registration["routes"][0] == {
        "path": "/upload",
        "methods": ["POST"],
        "target": "/api/files",
        "public": False,
    }
    assert registration["publishes"] == [
        "file.uploaded",
        "file.tagged",
        "file.deleted",
        "file.associated",
    ]
    assert registration["subscribes"] == ["task.created", "task.updated"]
    assert registration["chat"]["description"] == "The asset library: uploads, tags and search"
    assert set(registration) == {
        "endpoint",
        "routes",
        "publishes",
        "subscribes",
        "chat",
        "version",
        "description",
    }


def test_public_routes_are_registered_with_the_flag(agent_body: Any) -> None:
    agent = builders.parse_spec(agent_body("jamal")["spec"])
    registration = builders.build_registration(agent, endpoint="http://jamal.skyras.svc:8004")
    public = {r["path"]: r["methods"] for r in registration["routes"] if r["public"]}
    # The podcast feed and its enclosures: podcast apps send no API key.
    assert public == {
        "/shows/{slug}/feed.xml": ["GET", "HEAD"],
        "/media/{id}/{name}": ["GET", "HEAD"],
    }
    head_only = builders.parse_spec(
        {"image": "x", "port": 1, "routes": [
            {"path": "/f", "methods": ["HEAD"], "target": "/f", "public": True},
            {"path": "/g", "methods": ["GET"], "target": "/g"},
        ]}
    )  # fmt: skip
    assert [r.public for r in head_only.routes] == [True, False]  # absent means not public


def test_endpoint_template_can_point_at_local_processes() -> None:
    assert (
        builders.render_endpoint("http://127.0.0.1:{port}", name="ari", namespace="x", port=8003)
        == "http://127.0.0.1:8003"
    )


def test_a_stored_record_matches_despite_order_and_extra_fields(agent_body: Any) -> None:
    agent = builders.parse_spec(agent_body("marcus")["spec"])
    desired = builders.build_registration(agent, endpoint="http://marcus.skyras.svc:8001")
    stored = copy.deepcopy(desired)
    stored["routes"].reverse()
    stored["routes"][0]["methods"].reverse()
    stored["publishes"].reverse()
    stored.update(registered_at="2025-01-01T00:00:00Z", healthy=True)
    assert builders.registration_matches(desired, stored)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r.update(endpoint="http://elsewhere:1"),
        lambda r: r["routes"].pop(),
        lambda r: r["routes"][0].update(target="/api/other"),
        lambda r: r["routes"][1].update(methods=["GET"]),
        lambda r: r["routes"][0].update(public=True),  # a flag flipped by hand at the hub
        lambda r: r.update(version="0.0.9"),
        lambda r: r.update(subscribes=[]),
        lambda r: r["chat"].update(keywords=["x"]),
    ],
)
def test_a_stored_record_that_differs_is_registered_again(agent_body: Any, mutate: Any) -> None:
    agent = builders.parse_spec(agent_body("marcus")["spec"])
    desired = builders.build_registration(agent, endpoint="http://marcus.skyras.svc:8001")
    stored = copy.deepcopy(desired)
    mutate(stored)
    assert not builders.registration_matches(desired, stored)
    assert not builders.registration_matches(desired, None)


# Status.


def _deployment(generation: int = 2, observed: int | None = 2, **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": {"generation": generation}, "status": dict(status)}
    if observed is not None:
        body["status"]["observedGeneration"] = observed
    return body


@pytest.mark.parametrize(
    ("deployment", "desired", "available", "reason"),
    [
        (None, 1, "False", constants.REASON_DEPLOYMENT_MISSING),
        (_deployment(observed=None), 1, "False", constants.REASON_PROGRESSING),
        (
            _deployment(observed=1, availableReplicas=1, updatedReplicas=1),
            1,
            "False",
            constants.REASON_PROGRESSING,
        ),
        (
            _deployment(availableReplicas=0, updatedReplicas=1),
            1,
            "False",
            constants.REASON_PROGRESSING,
        ),
        (
            _deployment(availableReplicas=1, updatedReplicas=1),
            2,
            "False",
            constants.REASON_PROGRESSING,
        ),
        (
            _deployment(availableReplicas=2, updatedReplicas=1),
            2,
            "False",
            constants.REASON_PROGRESSING,
        ),
        (
            _deployment(availableReplicas=2, updatedReplicas=2),
            2,
            "True",
            constants.REASON_AVAILABLE,
        ),
        (_deployment(), 0, "True", constants.REASON_AVAILABLE),
        (
            _deployment(
                conditions=[
                    {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
                ]
            ),
            1,
            "False",
            constants.REASON_DEADLINE_EXCEEDED,
        ),
    ],
)
def test_available_only_when_available_replicas_reach_desired(
    deployment: Any, desired: int, available: str, reason: str
) -> None:
    update = builders.deployment_availability(deployment, desired)
    assert (update.status, update.reason) == (available, reason)


def _cond(status: str, reason: str = "R") -> builders.ConditionUpdate:
    return builders.ConditionUpdate(status, reason, "")


@pytest.mark.parametrize(
    ("available", "registered", "exists", "phase"),
    [
        (_cond("False", constants.REASON_DEPLOYMENT_MISSING), _cond("Unknown"), False, "Pending"),
        (_cond("False", constants.REASON_PROGRESSING), _cond("True"), True, "Progressing"),
        (_cond("False", constants.REASON_PROGRESSING), _cond("False"), True, "Progressing"),
        (_cond("True"), _cond("True"), True, "Ready"),
        (_cond("True"), _cond("False", constants.REASON_HUB_UNREACHABLE), True, "Degraded"),
        (_cond("False", constants.REASON_DEADLINE_EXCEEDED), _cond("True"), True, "Degraded"),
        (_cond("False", constants.REASON_CHILD_NOT_OWNED), _cond("False"), False, "Degraded"),
        (_cond("False", constants.REASON_INVALID_SPEC), _cond("False"), False, "Degraded"),
    ],
)
def test_phase(available: Any, registered: Any, exists: bool, phase: str) -> None:
    assert (
        builders.compute_phase(available=available, registered=registered, deployment_exists=exists)
        == phase
    )


def test_condition_transition_time_moves_only_when_status_changes() -> None:
    first = builders.set_condition([], "Registered", _cond("False", "HubUnreachable"), now="T1")
    second = builders.set_condition(first, "Registered", _cond("False", "HubRejected"), now="T2")
    third = builders.set_condition(second, "Registered", _cond("True", "Registered"), now="T3")
    assert first[0]["lastTransitionTime"] == "T1"
    assert second[0]["lastTransitionTime"] == "T1"
    assert second[0]["reason"] == "HubRejected"
    assert third[0]["lastTransitionTime"] == "T3"


def test_status_reports_what_was_observed(agent_body: Any) -> None:
    agent = builders.parse_spec(agent_body("marcus")["spec"])
    deployment = _deployment(availableReplicas=1, readyReplicas=1, updatedReplicas=1)
    status = builders.build_status(
        name="marcus",
        agent=agent,
        generation=3,
        desired_replicas=1,
        deployment=deployment,
        available=builders.deployment_availability(deployment, 1),
        registered=_cond("True", constants.REASON_REGISTERED),
        scaling_condition=_cond("False", constants.REASON_MANUAL),
        endpoint="http://marcus.skyras.svc:8001",
        autoscaling=None,
        old_status=None,
        now="2025-01-01T00:00:00Z",
    )
    assert status["phase"] == "Ready"
    assert (status["replicas"], status["readyReplicas"], status["routes"]) == (1, 1, 10)
    assert status["observedGeneration"] == 3
    assert status["selector"] == (
        "app.kubernetes.io/name=marcus,app.kubernetes.io/instance=marcus,"
        "app.kubernetes.io/component=agent"
    )
    assert [c["type"] for c in status["conditions"]] == ["Available", "Registered", "Scaling"]
    assert not builders.status_differs(status, copy.deepcopy(status))
    unregistered = dict(status, routes=0)
    assert builders.status_differs(unregistered, status)
