"""Last of the node tests (file order): stopping the cluster leaves nothing running."""

from pathlib import Path

import pytest

from tests.cluster.controlplane import ControlPlane
from tests.cluster.node import BRIDGE

pytestmark = pytest.mark.node


def processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def test_stop_leaves_no_process_container_or_bridge(node_cluster: ControlPlane) -> None:
    state = str(node_cluster.state_dir)
    assert processes_mentioning(state), "the node should be running before the stop"
    node_cluster.stop()
    assert processes_mentioning(state) == []  # containerd, shims, kubelet, kube-proxy ...
    assert not Path("/sys/class/net", BRIDGE).exists()
    leftovers = [p for p in Path("/sys/fs/cgroup").glob("*/kubepods") if p.is_dir()]
    assert leftovers == [], leftovers
    mounts = Path("/proc/self/mounts").read_text()
    assert state not in mounts
