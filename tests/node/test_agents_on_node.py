"""Agents on the real node: what a user does with kubectl and the hub's REST API.

An Agent applied with `kubectl apply -f manifests/agents/...` becomes a pod that
serves and registers through Service DNS; deleting it removes pod, Service and
routes; NetworkPolicies keep strangers away from the agents; Letitia's files
live on a PersistentVolume and outlive her pod.
"""

import json
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from services.ari.tests.media import ffmpeg_true_peak, pyloudnorm_lufs
from tests.cluster.controlplane import is_ready
from tests.utils import eventually

from .conftest import REPO, Release, api_key, port_forward, wait_pods_ready


def _exists(release: Release, kind: str, name: str) -> bool:
    res = release.cp.kubectl("get", kind, name, "-n", release.namespace, check=False)
    return res.returncode == 0


def test_kubectl_applied_agent_serves_through_the_hub_and_deleting_it_removes_everything(
    release: Release,
) -> None:
    wait_pods_ready(release)
    headers = {"Authorization": f"Bearer {api_key(release)}"}
    with (
        port_forward(release, f"svc/{release.name}-hub", 8000) as hub,
        httpx.Client(base_url=hub, headers=headers, timeout=20) as client,
    ):
        # The chart's own Marcus goes away: pod, Service, and its routes in the hub.
        release.kubectl("delete", "agent", "marcus", "--wait=true", timeout=300)
        eventually(
            lambda: (
                not (
                    _exists(release, "deployment", "marcus")
                    or _exists(release, "service", "marcus")
                )
            ),
            timeout=180,
            what="marcus's Deployment and Service to go",
        )
        eventually(
            lambda: (
                not release.get(
                    "pods", "-l", "app.kubernetes.io/name=marcus,app.kubernetes.io/component=agent"
                )["items"]
            ),
            timeout=180,
            what="marcus's pods to go",
        )
        assert client.get("/api/v2/registry/agents/marcus").status_code == 404
        assert client.get("/api/v2/agents/marcus/tasks").status_code == 404

        # The plain manifest, as a user applies it: the operator (a pod, with the
        # chart's RBAC) deploys it with the platform's database and Redis settings.
        manifest = REPO / "manifests" / "agents" / "marcus.yaml"
        release.kubectl("apply", "-f", str(manifest))
        eventually(
            lambda: client.get("/api/v2/registry/agents/marcus").status_code == 200,
            timeout=240,
            what="marcus registered through its Service DNS name",
        )
        # Ready: its pod serves (the routes may be registered a moment before that).
        release.kubectl(
            "wait",
            "--for=jsonpath={.status.phase}=Ready",
            "agent/marcus",
            "--timeout=180s",
            timeout=200,
        )
        record = client.get("/api/v2/registry/agents/marcus").json()
        assert f"marcus.{release.namespace}.svc" in json.dumps(record), record
        created = client.post("/api/v2/agents/marcus/task", json={"title": "Mix the single"})
        assert created.status_code == 201, created.text
        listed = client.get("/api/v2/agents/marcus/tasks").json()["items"]
        assert created.json()["id"] in {t["id"] for t in listed}
        client.delete(f"/api/v2/agents/marcus/tasks/{created.json()['id']}")


# Connects to host:port from inside a probe pod; exit 0 when the TCP handshake completes.
_CONNECT = (
    "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=4)"
)


def _probe_pod(release: Release, name: str, labels: dict[str, str]) -> None:
    """A pod of the hub's image (Python, a real resolver) with `labels`, idle until deleted."""
    image = release.get("deployment", f"{release.name}-hub")["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "restartPolicy": "Never",
            "enableServiceLinks": False,
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "command": ["sleep", "3600"],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }
    release.cp.kubectl("apply", "-n", release.namespace, "-f", "-", input=json.dumps(pod))
    release.kubectl("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=90s", timeout=120)


def _reaches(release: Release, pod: str, host: str, port: int) -> bool:
    res = release.cp.kubectl(
        "exec",
        "-n",
        release.namespace,
        pod,
        "--",
        "python",
        "-c",
        _CONNECT,
        host,
        str(port),
        check=False,
        timeout=30,
    )
    return res.returncode == 0


def test_network_policies_keep_strangers_away_from_the_agents(release: Release) -> None:
    wait_pods_ready(release)
    ns = release.namespace
    hub_labels = release.get("deployment", f"{release.name}-hub")["spec"]["selector"]["matchLabels"]
    _probe_pod(release, "stranger", {"app": "stranger"})
    _probe_pod(release, "hub-alike", dict(hub_labels))
    try:
        frontend = (f"{release.name}-frontend.{ns}.svc", 3000)
        agents = [(f"marcus.{ns}.svc", 8001), (f"letitia.{ns}.svc", 8002)]
        stores = [
            (f"{release.name}-{name}.{ns}.svc", port)
            for name, port in (("hub", 8000), ("postgres", 5432), ("redis", 6379))
        ]
        # DNS works for everyone and the frontend is open (what a browser reaches):
        # the refusals below are the policies, not a broken network.
        assert _reaches(release, "stranger", *frontend)
        for host, port in agents:
            assert _reaches(release, "hub-alike", host, port), f"the hub must reach {host}"
            assert not _reaches(release, "stranger", host, port), f"a stranger reached {host}"
        for host, port in stores:
            assert not _reaches(release, "stranger", host, port), f"a stranger reached {host}"
    finally:
        release.kubectl("delete", "pod", "stranger", "hub-alike", "--wait=true", timeout=120)


@pytest.fixture
def audio_bytes() -> bytes:
    """A short generated WAV (a real file, not a placeholder)."""
    out = subprocess.run(
        ["sox", "-n", "-t", "wav", "-", "synth", "1.5", "sine", "440", "gain", "-6"],
        capture_output=True,
        check=True,
    ).stdout
    return out


def test_a_file_uploaded_through_the_hub_survives_deleting_letitias_pod(
    release: Release, audio_bytes: bytes
) -> None:
    wait_pods_ready(release)
    claim = release.get("pvc", f"{release.name}-letitia-files")
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["storageClassName"] == "local-path"
    headers = {"Authorization": f"Bearer {api_key(release)}"}
    name = f"night-drive-{uuid.uuid4().hex[:6]}.wav"
    with (
        port_forward(release, f"svc/{release.name}-hub", 8000) as hub,
        httpx.Client(base_url=hub, headers=headers, timeout=30) as client,
    ):
        uploaded = client.post(
            "/api/v2/agents/letitia/upload",
            files={"file": (name, audio_bytes, "audio/wav")},
            data={"tags": "mix"},
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]
        old = release.get("pods", "-l", "app.kubernetes.io/name=letitia")["items"]
        release.kubectl("delete", "pod", *(p["metadata"]["name"] for p in old), timeout=120)
        old_names = {p["metadata"]["name"] for p in old}

        def new_letitia_ready() -> bool:
            pods = release.get("pods", "-l", "app.kubernetes.io/name=letitia")["items"]
            return bool(pods) and all(
                p["metadata"]["name"] not in old_names and is_ready(p) for p in pods
            )

        eventually(new_letitia_ready, timeout=240, what="a new Letitia pod Ready")
        downloaded = eventually(
            lambda: (
                (r := client.get(f"/api/v2/agents/letitia/files/{file_id}/content")).status_code
                == 200
                and r
            ),
            timeout=60,
            what="the file's bytes through the hub",
        )
        assert downloaded.content == audio_bytes
        client.delete(f"/api/v2/agents/letitia/files/{file_id}")


def test_a_mix_tagged_for_mastering_in_the_cluster_gets_its_master(
    release: Release, tmp_path: Path
) -> None:
    """Ari in its container (Debian's ffmpeg) reads the mix from Letitia by her Service and
    stores the master back: the whole chain across pods and NetworkPolicies."""
    wait_pods_ready(release)
    mix = subprocess.run(
        ["sox", "-n", "-r", "48000", "-c", "2", "-b", "24", "-t", "wav", "-",
         "synth", "6", "pinknoise", "gain", "-20"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    headers = {"Authorization": f"Bearer {api_key(release)}"}
    with (
        port_forward(release, f"svc/{release.name}-hub", 8000) as hub,
        httpx.Client(base_url=hub, headers=headers, timeout=30) as client,
    ):
        source = client.post(
            "/api/v2/agents/letitia/upload",
            files={"file": (f"mix-{uuid.uuid4().hex[:6]}.wav", mix, "audio/wav")},
            data={"tags": "master:streaming"},
        )
        assert source.status_code == 201, source.text
        source_id = source.json()["id"]

        def master() -> dict | None:
            found = client.get(
                "/api/v2/agents/letitia/files",
                params=[("tag", "master"), ("tag", f"source:{source_id}")],
            ).json()["items"]
            return found[0] if found else None

        made = eventually(master, timeout=240, what="Ari's master in the library")
        assert "streaming" in made["tags"], made
        content = client.get(f"/api/v2/agents/letitia/files/{made['id']}/content")
        assert content.status_code == 200, content.text
    # Measured here, by an independent BS.1770 meter, not by Ari's own report.
    path = tmp_path / "master.wav"
    path.write_bytes(content.content)
    assert abs(pyloudnorm_lufs(path) + 14) <= 0.5
    assert ffmpeg_true_peak(path) <= -1.0 + 0.1
