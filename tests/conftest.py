"""Fixtures for the cross-service tests: a real Kubernetes API server, the stack's processes."""

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.cluster.controlplane import ControlPlane, ExternalCluster, cluster

if TYPE_CHECKING:
    from tests.utils import Stack

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane | ExternalCluster]:
    """One control plane for the session (kind instead when SKYRAS_KUBE_EXTERNAL=1), CRD applied."""
    with cluster(tmp_path_factory.mktemp("kube")) as plane:
        plane.kubectl("apply", "-f", str(ROOT / "manifests" / "crds"))
        plane.kubectl(
            "wait", "--for=condition=Established", "crd/agents.skyras.io", "--timeout=60s"
        )
        yield plane


@pytest.fixture
def stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator["Stack"]:
    """Hub, Marcus and Letitia running as processes, agents registered (loopback-open)."""
    from tests.utils import Stack

    with Stack(database_url, redis_url, tmp_path) as running:
        yield running
