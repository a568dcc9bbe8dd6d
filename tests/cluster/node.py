"""A real Kubernetes node beside the control plane: pods run in containers here.

kwok fakes pods; this node runs them. Its parts, each a process of this
machine started and stopped with the control plane (``ControlPlane.start(
with_node=True)``, ``make kube-up``):

* containerd 2.x (CRI) with Debian's ``runc``, on state, root and socket
  paths of its own so that Docker's containerd is untouched;
* the kubelet (node ``skyras-node``), cgroupfs driver on this cgroup-v1 host;
* CNI: Debian's bridge + host-local + portmap plugins on the bridge
  ``skyras0`` (10.245.0.1/24, created here so the API server and kubelet can
  bind to it before the first pod);
* kube-proxy in iptables mode (the kernel has no IPVS);
* kube-router's firewall controller alone, which enforces NetworkPolicies with
  iptables + ipset (this kernel has no nftables queue);
* rancher's local-path provisioner for PersistentVolumeClaims (StorageClass
  ``local-path``, the default), its volumes under the state directory;
* CoreDNS as a pod in ``kube-system`` behind the Service 10.96.0.10.

The images the node needs for itself (pause, CoreDNS, busybox for the
provisioner's helper pods) are small image archives written here from the
built binaries (Debian's static busybox), imported with ``ctr``; the project's
images come from ``docker save`` (tests/cluster/images.py) the same way.

Host changes it needs (root): the bridge, ``net.ipv4.ip_forward=1`` and
``net.bridge.bridge-nf-call-iptables=1`` (both as Docker sets them), and the
kubelet's and kube-proxy's iptables chains; ``stop`` removes the bridge, the
pods' mounts and containers. Traffic stays on this machine: the bridge, pod
and Service addresses, and 127.0.0.1.

Stdlib only, like the rest of tests/cluster.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from .build import COREDNS_VERSION, K8S_VERSION, BinPaths

NODE_NAME = "skyras-node"
APISERVER_PORT = 6443
BRIDGE = "skyras0"
NODE_IP = "10.245.0.1"  # the bridge's address: the node's InternalIP, pods' gateway
POD_CIDR = "10.245.0.0/24"
CLUSTER_DNS = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
# Processes of the node, in start order (stop goes the other way).
NODE_COMPONENTS = ("containerd", "kubelet", "kube-proxy", "kube-router", "local-path-provisioner")
# Free ports on 127.0.0.1 (or the bridge address) each start picks.
NODE_PORTS = ("kubelet", "kubelet_healthz", "proxy_healthz", "proxy_metrics", "router_health")
CNI_BIN_DIRS = ("/usr/lib/cni", "/opt/cni/bin")

# Images of the node itself (imported, never pulled).
PAUSE_IMAGE = f"skyras.local/pause:{K8S_VERSION}"
COREDNS_IMAGE = f"skyras.local/coredns:{COREDNS_VERSION}"
BUSYBOX_IMAGE = "skyras.local/busybox:debian"
BUSYBOX = "/bin/busybox"  # Debian's busybox-static
PROVISIONER_CONFIGMAP = "local-path-config"
PROVISIONER_SA = "local-path-provisioner"


class NodeError(RuntimeError):
    pass


def check_host() -> None:
    """Fail early, saying what to install, when the node cannot run here."""
    if os.geteuid() != 0:
        raise NodeError("the real node needs root (containerd, kubelet, iptables, a bridge)")
    missing = [t for t in ("runc", "iptables", "ipset", "ip") if not shutil.which(t)]
    if not any(Path(d, "bridge").is_file() for d in CNI_BIN_DIRS):
        missing.append("CNI plugins")
    if not Path(BUSYBOX).is_file():
        missing.append(BUSYBOX)
    if missing:
        raise NodeError(
            f"the real node needs {', '.join(missing)}: run `make system-deps` "
            "(the Makefile's SYSTEM_PACKAGES lists the Debian packages)"
        )


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=60)


def _sysctl(key: str, value: str) -> None:
    Path("/proc/sys", *key.split(".")).write_text(value)


# Which state directory's node owns this machine's bridge (one real node per machine).
OWNER_FILE = Path("/run/skyras-test-node.owner")


def _node_alive(state_dir: Path) -> bool:
    for name in ("containerd", "kubelet"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((state_dir / "run" / f"{name}.pid").read_text().split()[0])
            if Path(f"/proc/{pid}").exists():
                return True
    return False


def claim_machine(state_dir: Path) -> None:
    """Refuse to start a second real node: they would share the bridge and cgroups."""
    with contextlib.suppress(OSError):
        other = OWNER_FILE.read_text().strip()
        if other and other != str(state_dir) and _node_alive(Path(other)):
            raise NodeError(
                f"another real node runs on this machine (state {other}); stop it first: "
                f"`python -m tests.cluster down --dir {other}` (or `make kube-down`)"
            )
    OWNER_FILE.write_text(f"{state_dir}\n")


def release_machine(state_dir: Path) -> None:
    with contextlib.suppress(OSError):
        if OWNER_FILE.read_text().strip() == str(state_dir):
            OWNER_FILE.unlink()


def setup_host_network() -> None:
    """The bridge the CNI plugin attaches pods to, up with the node's address."""
    if _run("ip", "link", "show", BRIDGE, check=False).returncode != 0:
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
    addrs = _run("ip", "-4", "-o", "addr", "show", "dev", BRIDGE).stdout
    if f" {NODE_IP}/" not in addrs:
        _run("ip", "addr", "add", f"{NODE_IP}/24", "dev", BRIDGE)
    _run("ip", "link", "set", BRIDGE, "up")
    _sysctl("net.ipv4.ip_forward", "1")
    _sysctl("net.bridge.bridge-nf-call-iptables", "1")


def teardown_host_network() -> None:
    _run("ip", "link", "del", BRIDGE, check=False)


# --- images of the node itself ---------------------------------------------------


def image_archive(
    ref: str,
    files: dict[str, Path],
    entrypoint: list[str],
    dest: Path,
    links: dict[str, str] | None = None,
) -> Path:
    """A one-layer image (Docker archive format, which ``ctr import`` reads) of ``files``.

    ``files`` maps paths in the image to files here, ``links`` paths to hard-link
    targets in the image; the archive is rewritten only when its contents change
    (the name carries their digest).
    """
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for inside, src in sorted(files.items()):
            info = tarfile.TarInfo(inside.lstrip("/"))
            data = src.read_bytes()
            info.size, info.mode, info.mtime = len(data), 0o755, 0
            tar.addfile(info, io.BytesIO(data))
        for inside, target in sorted((links or {}).items()):
            info = tarfile.TarInfo(inside.lstrip("/"))
            info.type, info.linkname, info.mode, info.mtime = (
                tarfile.LNKTYPE,
                target.lstrip("/"),
                0o755,
                0,
            )
            tar.addfile(info)
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": entrypoint, "User": "65532:65532", "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    digest = hashlib.sha256(config_bytes).hexdigest()
    out = dest / f"{ref.split('/')[-1].replace(':', '_')}-{digest[:12]}.tar"
    if out.is_file():
        return out
    dest.mkdir(parents=True, exist_ok=True)
    manifest = [{"Config": f"{digest}.json", "RepoTags": [ref], "Layers": ["layer.tar"]}]
    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, mode="w") as tar:
        for name, data in (
            (f"{digest}.json", config_bytes),
            ("layer.tar", layer_bytes),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(out)
    return out


# Applets of the busybox image: the provisioner's scripts and the node tests use them.
BUSYBOX_APPLETS = ("sh", "mkdir", "rm", "cat", "sleep", "wget", "nslookup", "httpd")


def node_image_archives(bins: BinPaths, dest: Path) -> list[Path]:
    return [
        image_archive(PAUSE_IMAGE, {"/pause": bins.pause}, ["/pause"], dest),
        image_archive(COREDNS_IMAGE, {"/coredns": bins["coredns"]}, ["/coredns"], dest),
        # The provisioner's helper pods run its setup/teardown scripts (sh, mkdir, rm).
        image_archive(
            BUSYBOX_IMAGE,
            {"/bin/busybox": Path(BUSYBOX)},
            ["/bin/sh"],
            dest,
            links={f"/bin/{applet}": "/bin/busybox" for applet in BUSYBOX_APPLETS},
        ),
    ]


# --- configuration files -------------------------------------------------------------


@dataclass(frozen=True)
class NodePaths:
    """Where the node keeps its state (under the control plane's state directory)."""

    root: Path

    @property
    def containerd_root(self) -> Path:
        return self.root / "containerd" / "root"

    @property
    def containerd_state(self) -> Path:
        return self.root / "containerd" / "state"

    @property
    def containerd_socket(self) -> Path:
        return self.root / "containerd" / "containerd.sock"

    @property
    def containerd_config(self) -> Path:
        return self.root / "containerd" / "config.toml"

    @property
    def cni_conf_dir(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def kubelet_dir(self) -> Path:
        return self.root / "kubelet"

    @property
    def kubelet_config(self) -> Path:
        return self.root / "kubelet-config.yaml"

    @property
    def proxy_config(self) -> Path:
        return self.root / "kube-proxy-config.yaml"

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def volumes(self) -> Path:
        return self.root / "local-path"


def containerd_config(p: NodePaths) -> str:
    cni_bins = ", ".join(json.dumps(d) for d in CNI_BIN_DIRS)
    return f"""# Written by tests/cluster/node.py: the test node's containerd, apart from Docker's.
version = 3
root = "{p.containerd_root}"
state = "{p.containerd_state}"
disabled_plugins = [
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{p.containerd_socket}"

[ttrpc]
  address = "{p.containerd_socket}.ttrpc"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "{PAUSE_IMAGE}"

[plugins."io.containerd.cri.v1.runtime"]
  # This machine refuses a negative oom_score_adj even to root; without this
  # runc fails with "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "{shutil.which("runc") or "runc"}"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = [{cni_bins}]
    conf_dir = "{p.cni_conf_dir}"

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
"""


def cni_config(p: NodePaths) -> str:
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": "skyras",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "isDefaultGateway": True,  # Service IPs are routed via the node
                    "ipMasq": False,  # pods talk to this machine only
                    "hairpinMode": True,  # a pod reaching itself through its Service
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR, "gateway": NODE_IP}]],
                        "dataDir": str(p.root / "cni" / "ipam"),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=1,
    )


def kubelet_config(p: NodePaths, pki: Path, ports: dict[str, int]) -> str:
    return f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {NODE_IP}
port: {ports["kubelet"]}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: {ports["kubelet_healthz"]}
authentication:
  anonymous: {{enabled: false}}
  webhook: {{enabled: true}}
  x509: {{clientCAFile: {pki / "ca.crt"}}}
authorization: {{mode: Webhook}}
# This host has cgroup v1 and no systemd cgroup manager for us.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://{p.containerd_socket}
clusterDNS: [{CLUSTER_DNS}]
clusterDomain: {CLUSTER_DOMAIN}
resolvConf: {p.root / "resolv.conf"}
podLogsDir: {p.root / "pod-logs"}
serializeImagePulls: false
# A shared test machine: evict only when it is really out of room.
evictionHard: {{memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 60
"""


def proxy_config(p: NodePaths, kubeconfig: Path, ports: dict[str, int]) -> str:
    return f"""apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {{kubeconfig: {kubeconfig}}}
hostnameOverride: {NODE_NAME}
mode: iptables
clusterCIDR: {POD_CIDR}
bindAddress: {NODE_IP}
healthzBindAddress: 127.0.0.1:{ports["proxy_healthz"]}
metricsBindAddress: 127.0.0.1:{ports["proxy_metrics"]}
# NodePorts on the node's bridge address only, never on the machine's own.
nodePortAddresses: ["{NODE_IP}/32"]
conntrack: {{maxPerCore: 0}}  # leave the host's conntrack table size alone
"""


def provisioner_config(p: NodePaths) -> str:
    """local-path-provisioner's ConfigMap: where volumes go, its scripts, its helper pod."""
    config = {
        "nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [str(p.volumes)]}]
    }
    helper_pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "helper-pod"},
        "spec": {
            "containers": [
                {
                    "name": "helper-pod",
                    "image": BUSYBOX_IMAGE,
                    "imagePullPolicy": "Never",
                    "securityContext": {"runAsUser": 0, "runAsGroup": 0},
                }
            ]
        },
    }
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": PROVISIONER_CONFIGMAP, "namespace": "kube-system"},
        "data": {
            "config.json": json.dumps(config),
            # upstream's default scripts
            "setup": '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
            "teardown": '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
            "helperPod.yaml": json.dumps(helper_pod),
        },
    }
    sa = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": PROVISIONER_SA, "namespace": "kube-system"},
    }
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [cm, sa]})


def coredns_manifest() -> str:
    """CoreDNS for cluster.local only (nothing outside this machine to forward to)."""
    corefile = (
        ".:53 {\\n    errors\\n    health :8080\\n    ready :8181\\n"
        f"    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{\\n"
        "        pods insecure\\n        fallthrough in-addr.arpa ip6.arpa\\n    }\\n"
        "    cache 30\\n    reload\\n}\\n"
    )
    return f"""apiVersion: v1
kind: ServiceAccount
metadata: {{name: coredns, namespace: kube-system}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: "system:coredns"}}
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: "system:coredns"}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}}
subjects: [{{kind: ServiceAccount, name: coredns, namespace: kube-system}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: coredns, namespace: kube-system}}
data:
  Corefile: "{corefile}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {{k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {{matchLabels: {{k8s-app: kube-dns}}}}
  template:
    metadata: {{labels: {{k8s-app: kube-dns}}}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      containers:
        - name: coredns
          image: {COREDNS_IMAGE}
          imagePullPolicy: Never
          args: ["-conf", "/etc/coredns/Corefile", "-dns.port", "53"]
          ports:
            - {{name: dns, containerPort: 53, protocol: UDP}}
            - {{name: dns-tcp, containerPort: 53, protocol: TCP}}
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{drop: [ALL], add: [NET_BIND_SERVICE]}}
          readinessProbe: {{httpGet: {{path: /ready, port: 8181}}, periodSeconds: 2}}
          livenessProbe: {{httpGet: {{path: /health, port: 8080}}, periodSeconds: 10}}
          volumeMounts: [{{name: config, mountPath: /etc/coredns, readOnly: true}}]
      volumes: [{{name: config, configMap: {{name: coredns}}}}]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {{k8s-app: kube-dns}}
spec:
  clusterIP: {CLUSTER_DNS}
  selector: {{k8s-app: kube-dns}}
  ports:
    - {{name: dns, port: 53, protocol: UDP}}
    - {{name: dns-tcp, port: 53, protocol: TCP}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: {{storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
"""


def cleanup_pod_mounts(p: NodePaths) -> None:
    """Unmount what the kubelet and containerd left mounted under the node's state."""
    with contextlib.suppress(OSError):
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        targets = [m.split()[1] for m in mounts if len(m.split()) > 1]
        for target in sorted(targets, key=len, reverse=True):
            if target.startswith(str(p.root) + "/"):
                _run("umount", "-l", target, check=False)


def _cgroup_dirs(name: str) -> list[Path]:
    """``name`` (e.g. kubepods) under every mounted cgroup-v1 controller (or v2's root)."""
    base = Path("/sys/fs/cgroup")
    roots = [base] if (base / "cgroup.controllers").exists() else list(base.iterdir())
    return [r / name for r in roots if (r / name).is_dir()]


def kill_pods(p: NodePaths) -> int:
    """SIGKILL every container process (the kubepods cgroups) and this node's shims.

    containerd's shims and the containers outlive containerd itself, so
    stopping the node ends them here; returns how many processes it killed.
    """
    pids: set[int] = set()
    for top in _cgroup_dirs("kubepods"):
        for procs in top.rglob("cgroup.procs"):
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(x) for x in procs.read_text().split())
    marker = str(p.containerd_socket).encode()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes()
                if b"containerd-shim" in cmdline and marker in cmdline:
                    pids.add(int(proc.name))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, 9)
    end = time.monotonic() + 10
    while time.monotonic() < end and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.1)
    for top in _cgroup_dirs("kubepods"):
        for d in sorted((x for x in top.rglob("*") if x.is_dir()), key=lambda x: -len(x.parts)):
            with contextlib.suppress(OSError):
                d.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()
    return len(pids)


def remove_log_links(pod_logs: Path, links: Path = Path("/var/log/containers")) -> None:
    """The kubelet links each container's log there (a fixed path); ours point into `pod_logs`."""
    if not links.is_dir():
        return
    for link in links.iterdir():
        with contextlib.suppress(OSError):
            if link.is_symlink() and Path(os.readlink(link)).is_relative_to(pod_logs):
                link.unlink()


def cleanup_host(p: NodePaths, bins: BinPaths) -> None:
    """What the node left on the host: mounts, kube-proxy's and kube-router's rules, the
    bridge, and the kubelet's links to its pods' logs in /var/log/containers."""
    cleanup_pod_mounts(p)
    remove_log_links(p.root / "pod-logs")
    _run(str(bins["kube-proxy"]), "--cleanup", check=False)
    _run(str(bins["kube-router"]), "--cleanup-config", check=False)
    teardown_host_network()
    release_machine(p.root.parent)
