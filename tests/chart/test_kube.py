"""The chart against a real API server: server-side dry-run, install, upgrade, uninstall.

With kwok, Pods turn Ready without running anything and Pods owned by a Job
complete (kwok's pod-complete stage), so `helm install --wait` and the
migration hook Job finish. The local control plane has no volume provisioner:
the install uses emptyDir volumes for Postgres and Redis
(persistence.enabled=false) and a PersistentVolume made by the test for
Letitia's files; the other PersistentVolumeClaim templates are checked by the
dry-run.
"""

import base64
import json
import uuid

import pytest

from .conftest import set_args
from .test_render import NON_DEFAULT

pytestmark = pytest.mark.kube

NO_PVC = {"postgres.persistence.enabled": False, "redis.persistence.enabled": False}


@pytest.mark.parametrize(
    "values",
    [
        {},
        NON_DEFAULT,
        {
            "ingress.enabled": True,
            "ingress.className": "nginx",
            "ingress.host": "skyras.example.com",
            "ingress.tls.enabled": True,
            "ingress.tls.secretName": "skyras-tls",
            "agents.ari.enabled": True,
            "agents.jamal.enabled": True,
            "agents.giorgio.enabled": True,
            "operator.apiServer.cidrs": ["10.0.0.1/32"],
            "networkPolicy.ingressFrom": [
                {"namespaceSelector": {"matchLabels": {"name": "ingress"}}}
            ],
            "postgres.existingSecret": "pg",
            "redis.existingSecret": "rd",
            "agents.letitia.replicas": 2,
            "agents.letitia.storage.s3": {
                "bucket": "studio-assets",
                "endpointUrl": "http://minio:9000",
                "accessKeyId": "AKIDEXAMPLE",
                "secretAccessKey": "wJalrXUtnFEMI",
            },
        },
    ],
    ids=["defaults", "non-default", "everything-on"],
)
def test_every_manifest_passes_server_side_dry_run(kube, kube_helm, values) -> None:
    ns = f"dry-{uuid.uuid4().hex[:6]}"
    kube.kubectl("create", "namespace", ns)
    for other in values.get("operator.watchNamespaces", []):
        kube.kubectl("create", "namespace", other, check=False)
    try:
        out = kube_helm.run(
            "template", "skyras", "charts/skyras", "--namespace", ns, *set_args(values)
        ).stdout
        res = kube.kubectl(
            "apply", "--dry-run=server", "-f", "-", input=out, check=False, timeout=120
        )
        assert res.returncode == 0, res.stderr
        assert "Agent" in out and "created (server dry run)" in res.stdout
    finally:
        kube.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def _secret(kube, ns: str, name: str) -> dict[str, str]:
    data = json.loads(kube.kubectl("get", "secret", name, "-n", ns, "-o", "json").stdout)["data"]
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def _files_volume(kube, ns: str) -> str:
    """A PersistentVolume for Letitia's claim (no provisioner here), bound to it in advance."""
    name = f"letitia-files-{ns}"
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "20Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": f"/var/lib/skyras-test/{ns}"},
            "claimRef": {"namespace": ns, "name": "skyras-letitia-files"},
        },
    }
    kube.kubectl("apply", "-f", "-", input=json.dumps(volume))
    return name


def test_install_upgrade_uninstall(kube, kube_helm) -> None:
    ns = f"skyras-{uuid.uuid4().hex[:6]}"
    release = "skyras"
    args = ["--namespace", ns, *set_args(NO_PVC)]
    volume = _files_volume(kube, ns)
    res = kube_helm.run(
        "install",
        release,
        "charts/skyras",
        "--create-namespace",
        "--wait",
        "--timeout",
        "5m",
        *args,
        timeout=420,
    )
    assert "STATUS: deployed" in res.stdout
    assert "port-forward svc/skyras-hub 8000:8000" in res.stdout  # NOTES.txt
    try:
        # The hook Job ran to completion and was kept for its logs.
        job = json.loads(
            kube.kubectl("get", "job", "skyras-migrations", "-n", ns, "-o", "json").stdout
        )
        assert job["status"].get("succeeded") == 1
        # The operator's Deployment is available; the Agents exist with their images.
        kube.kubectl("rollout", "status", "deployment/skyras-operator", "-n", ns, "--timeout=60s")
        agents = json.loads(kube.kubectl("get", "agents", "-n", ns, "-o", "json").stdout)["items"]
        assert {a["metadata"]["name"]: a["spec"]["image"] for a in agents} == {
            "marcus": "skyras/marcus:0.1.0",
            "letitia": "skyras/letitia:0.1.0",
        }
        for sts in ("skyras-postgres", "skyras-redis"):
            kube.kubectl("rollout", "status", f"statefulset/{sts}", "-n", ns, "--timeout=60s")
        letitia = next(a for a in agents if a["metadata"]["name"] == "letitia")["spec"]
        assert letitia["volumes"][0]["persistentVolumeClaim"]["claimName"] == "skyras-letitia-files"
        assert letitia["strategy"] == {"type": "Recreate"}
        claim = json.loads(
            kube.kubectl("get", "pvc", "skyras-letitia-files", "-n", ns, "-o", "json").stdout
        )
        assert claim["status"]["phase"] == "Bound" and claim["spec"]["volumeName"] == volume
        keys = _secret(kube, ns, "skyras-api-keys")
        password = _secret(kube, ns, "skyras-postgres")["password"]

        res = kube_helm.run(
            "upgrade",
            release,
            "charts/skyras",
            "--wait",
            "--timeout",
            "5m",
            *args,
            *set_args({"agents.ari.enabled": True, "agents.marcus.image.tag": "0.2.0"}),
            timeout=420,
        )
        assert "has been upgraded" in res.stdout
        assert _secret(kube, ns, "skyras-api-keys") == keys, "API keys must survive an upgrade"
        assert _secret(kube, ns, "skyras-postgres")["password"] == password
        agents = json.loads(kube.kubectl("get", "agents", "-n", ns, "-o", "json").stdout)["items"]
        images = {a["metadata"]["name"]: a["spec"]["image"] for a in agents}
        assert images["marcus"] == "skyras/marcus:0.2.0" and "ari" in images
        history = kube_helm.run("history", release, "-n", ns, "-o", "json").stdout
        assert [h["status"] for h in json.loads(history)][-1] == "deployed"
    finally:
        res = kube_helm.run(
            "uninstall",
            release,
            "--namespace",
            ns,
            "--wait",
            "--timeout",
            "3m",
            "--debug",
            check=False,
            timeout=240,
        )
    assert res.returncode == 0, res.stderr
    # The drain hook ran to completion before the operator's Deployment went (helm's
    # --debug log; kwok completes the Job's pod without running it, so no Agent is
    # finalized here: tests/operator/test_drain.py runs the drain itself).
    log = res.stderr
    job = log.find('name=skyras-drain gvk="batch/v1, Kind=Job"')
    operator = log.find("kind=Deployment name=skyras-operator")
    assert 0 <= job < operator, log
    left = kube.kubectl(
        "get",
        # serviceaccount,role,rolebinding: the operator's, and the drain hook's (hook-succeeded).
        "deploy,sts,svc,secret,agents,networkpolicy,pdb,serviceaccount,role,rolebinding",
        "-n",
        ns,
        "-l",
        f"app.kubernetes.io/instance={release}",
        "-o",
        "name",
    ).stdout.split()
    assert left == [], f"left behind after uninstall: {left}"
    # The studio's files are not the release's to delete.
    claims = kube.kubectl("get", "pvc", "-n", ns, "-o", "name").stdout.split()
    assert claims == ["persistentvolumeclaim/skyras-letitia-files"]
    kube.kubectl("delete", "namespace", ns, "--wait=false", check=False)
    kube.kubectl("delete", "pv", volume, "--wait=false", check=False)
