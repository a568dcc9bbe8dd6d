"""Fixtures for the chart's tests: the pinned helm, a rendered chart, a real API server.

`helm` comes from tests/cluster's pinned build (built once, cached; a file lock
makes a concurrent build wait instead of building twice). Tests marked `kube`
share one control plane per session (tests.cluster.controlplane.cluster: a
local one with kwok, or the cluster of KUBECONFIG with SKYRAS_KUBE_EXTERNAL=1).
"""

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.build import ensure_binaries
from tests.cluster.controlplane import ControlPlane, ExternalCluster, cluster

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "skyras"


class Helm:
    """The pinned helm binary; `render` returns the manifests of `helm template` as dicts."""

    def __init__(self, exe: Path, env: dict[str, str] | None = None) -> None:
        self.exe = exe
        self.env = env

    def run(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(
            [str(self.exe), *args], capture_output=True, text=True, timeout=timeout, env=self.env
        )
        if check and res.returncode != 0:
            raise AssertionError(
                f"helm {' '.join(args)} failed ({res.returncode}):\n{res.stderr}{res.stdout}"
            )
        return res

    def template(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(
            "template", "skyras", str(CHART), "--namespace", "skyras", *args, check=check
        )

    def render(self, *args: str) -> list[dict[str, Any]]:
        out = self.template(*args).stdout
        return [d for d in yaml.safe_load_all(out) if d]


def set_args(values: dict[str, Any]) -> list[str]:
    """--set-json arguments for a flat {dotted.key: value} dict."""
    import json

    args: list[str] = []
    for key, value in values.items():
        args += ["--set-json", f"{key}={json.dumps(value)}"]
    return args


@pytest.fixture(scope="session")
def helm() -> Helm:
    return Helm(ensure_binaries(("helm",)).helm)


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane | ExternalCluster]:
    with cluster(tmp_path_factory.mktemp("kube"), with_kwok=True, nodes=2) as cp:
        cp.kubectl("apply", "--server-side", "-f", str(CHART / "crds"))
        cp.kubectl("wait", "--for=condition=Established", "crd/agents.skyras.io", "--timeout=60s")
        yield cp


@pytest.fixture(scope="session")
def kube_helm(kube: ControlPlane | ExternalCluster) -> Helm:
    return Helm(ensure_binaries(("helm",)).helm, env=kube.env())


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())
