"""A real Kubernetes control plane on loopback, without Docker or a kubelet.

Who uses it:

* the operator's and the chart's tests (pytest fixtures; see below and
  ``tests/cluster/README.md``), which need a real API server: ``kubectl apply``
  of ``manifests/``, ``helm install`` of ``charts/``, the operator itself;
* developers, through ``make kube-up`` / ``python -m tests.cluster up``.

What runs, each as its own detached process (``setsid``) with a pid file and a
log under the state directory: etcd, kube-apiserver, kube-controller-manager
(Deployments get ReplicaSets, garbage collection, service-account tokens),
kube-scheduler and kwok, which plays the kubelet for fake Nodes so that
scheduled Pods turn Ready. Every port is a free one on 127.0.0.1 and is
written in ``<state_dir>/kubeconfig``; nothing listens on or sends to any
other address. With the real node (``start(with_node=True)``, see
:mod:`tests.cluster.node`) the API server also listens on the node's bridge
address, where pods reach it through the ``kubernetes`` Service.

The binaries are built from their Go modules, pinned and cached by version,
by :func:`tests.cluster.build.ensure_binaries` (re-exported here).

A pytest fixture::

    from tests.cluster.controlplane import ControlPlane

    @pytest.fixture(scope="session")
    def kube(tmp_path_factory):
        cp = ControlPlane(tmp_path_factory.mktemp("kube"), die_with_parent=True)
        cp.start(with_kwok=True)  # builds the binaries first if needed
        yield cp  # cp.kubeconfig, cp.env(), cp.kubectl("get", "pods")
        cp.stop()

or, honouring ``SKYRAS_KUBE_EXTERNAL=1`` + ``KUBECONFIG`` (e.g. a kind cluster)::

    with cluster(tmp_path) as cp: ...

Stdlib only (plus the ``openssl`` CLI): it runs before any virtualenv exists.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from . import node
from .build import (
    ETCD_VERSION,
    HELM_VERSION,
    K8S_VERSION,
    KWOK_VERSION,
    BinPaths,
    bin_dir,
    binaries_ready,
    ensure_binaries,
)

__all__ = [
    "ETCD_VERSION",
    "HELM_VERSION",
    "K8S_VERSION",
    "KWOK_VERSION",
    "BinPaths",
    "ComponentStatus",
    "ControlPlane",
    "ExternalCluster",
    "binaries_ready",
    "cluster",
    "default_state_dir",
    "ensure_binaries",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
# Start order; stop goes the other way.
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    *node.NODE_COMPONENTS,
)
SERVICE_CIDR = "10.96.0.0/12"
POD_CIDR = "10.244.0.1/16"  # kwok hands out fake pod IPs from it: data only, no traffic
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"


def default_state_dir() -> Path:
    """``$SKYRAS_KUBE_DIR`` or ``<repo>/.skyras/kube``."""
    return Path(os.environ.get("SKYRAS_KUBE_DIR") or REPO_ROOT / ".skyras" / "kube")


@dataclass
class ComponentStatus:
    name: str
    pid: int | None
    running: bool
    healthy: bool
    detail: str
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _advertise_address() -> str:
    """A non-loopback address of this machine for --advertise-address.

    kube-apiserver refuses a loopback one; it only publishes it in the
    ``kubernetes`` Endpoints and never dials it (nothing does here: there is
    no kube-proxy and no kubelet). ``SKYRAS_KUBE_ADVERTISE_ADDRESS`` overrides.
    """
    env = os.environ.get("SKYRAS_KUBE_ADVERTISE_ADDRESS")
    if env:
        return env
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["hostname", "-I"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
        for addr in out.split():
            if "." in addr and not addr.startswith("127."):
                return addr
    # No configured address (an isolated network namespace): the apiserver does
    # not check that the address exists; a TEST-NET-2 one is never routed.
    return "198.51.100.1"


def _pid_alive(pid: int, exe: str | None = None) -> bool:
    """True if pid runs (not a zombie) and, if given, was started from exe."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return False
    if exe is not None:
        try:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            return False
        return argv0 == exe
    return True


def _die_with(parent: int) -> Callable[[], None]:
    """preexec_fn: SIGKILL to the child when its parent (thread) dies."""

    def set_pdeathsig() -> None:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl
            os._exit(1)

    return set_pdeathsig


def _openssl(*args: str, cwd: Path) -> None:
    res = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {res.stderr.strip()}")


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


class ControlPlane:
    """etcd + kube-apiserver + controller-manager + scheduler (+ kwok) in one directory.

    ``state_dir`` holds everything: ``pki/``, ``etcd-data/``, ``logs/<name>.log``,
    ``run/<name>.pid``, ``state.json`` (ports) and the admin ``kubeconfig``.
    ``start()`` is idempotent: a healthy running plane is left as it is; one
    with dead components is stopped and started again on the same data.
    Processes are detached (own session), so a plane started by
    ``python -m tests.cluster up`` outlives that command; ``stop()`` (from any
    process) ends them: SIGTERM to each process group, SIGKILL after a timeout.
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = None,
        bins: BinPaths | None = None,
        die_with_parent: bool = False,
    ):
        """``die_with_parent``: the components get SIGKILL when the thread that started
        them ends (Linux PR_SET_PDEATHSIG), so a test run killed hard leaves nothing
        behind (all at once: SIGTERM would leave kube-apiserver waiting ~20 s on a
        dead etcd). Only for a plane started from the main thread of a long-lived
        process (a pytest session); never for ``up``, whose process exits at once."""
        self.state_dir = Path(state_dir) if state_dir is not None else default_state_dir()
        self.state_dir = self.state_dir.absolute()
        self._bins = bins
        self._die_with_parent = die_with_parent
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    # --- paths ---------------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (client certificate in group system:masters)."""
        return self.state_dir / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.state_dir / "pki"

    @property
    def bins(self) -> BinPaths:
        if self._bins is None:
            self._bins = BinPaths(bin_dir())
        return self._bins

    def log_path(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    def _pid_path(self, name: str) -> Path:
        return self.state_dir / "run" / f"{name}.pid"

    def _state(self) -> dict:
        try:
            return json.loads((self.state_dir / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    @property
    def server(self) -> str:
        """https://127.0.0.1:<port> of the API server (from state.json)."""
        port = self._state().get("ports", {}).get("apiserver")
        if not port:
            raise RuntimeError(f"no control plane state in {self.state_dir}")
        return f"https://127.0.0.1:{port}"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for subprocesses: KUBECONFIG and PATH with kubectl/helm first."""
        env = dict(os.environ if base is None else base)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = os.pathsep.join([str(self.bins.dir), env.get("PATH", "")])
        return env

    def kubectl(
        self, *args: str, check: bool = True, timeout: float = 60, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the pinned kubectl against this plane; returns the completed process."""
        return subprocess.run(
            [str(self.bins.kubectl), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            input=input,
            env=self.env(),
        )

    def helm(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run the pinned helm against this plane; returns the completed process."""
        return subprocess.run(
            [str(self.bins.helm), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            env=self.env(),
        )

    # --- lifecycle -----------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / ".lock").open("w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def start(
        self,
        with_kwok: bool = True,
        with_controllers: bool = True,
        nodes: int = 2,
        timeout: float = 180,
        progress: Callable[[str], None] | None = None,
        with_node: bool = False,
    ) -> ControlPlane:
        """Build if needed, start everything, wait until usable; returns self.

        Usable means: ``/readyz`` ok; with controllers, the ``default``
        ServiceAccount exists; with kwok, ``nodes`` fake Nodes are Ready; with
        the real node (tests/cluster/node.py, needs root), Node ``skyras-node``
        is Ready and CoreDNS answers. One real node per machine.
        """
        progress = progress or (lambda m: print(f"[kube] {m}", file=sys.stderr, flush=True))
        if self._bins is None:
            self._bins = ensure_binaries(progress=progress)
        with self._lock():
            wanted = list(COMPONENTS[:2])
            if with_controllers:
                wanted += ["kube-controller-manager", "kube-scheduler"]
            if with_kwok:
                wanted.append("kwok")
            if with_node:
                node.check_host()
                wanted += node.NODE_COMPONENTS
            st = self._state()
            if (
                st.get("components") == wanted
                and all(self._running(n) for n in wanted)
                and self._apiserver_ready()
            ):
                progress(f"already running ({self.server})")
                return self
            self._stop_locked(progress=progress)
            deadline = time.monotonic() + timeout
            t0 = time.monotonic()
            previous_ports = st.get("ports", {})
            for attempt in range(3):
                try:
                    self._launch(wanted, nodes, deadline, previous_ports, progress)
                    break
                except RuntimeError as e:
                    self._stop_locked(progress=progress)
                    # Another process took one of the free ports between our check and
                    # the component's bind: try again on fresh ports.
                    if "address already in use" not in str(e) or attempt == 2:
                        raise
                    progress(f"port clash, retrying on other ports: {str(e).splitlines()[0]}")
                    previous_ports = {}
                except BaseException:
                    self._stop_locked(progress=progress)
                    raise
            progress(f"control plane up in {time.monotonic() - t0:.1f}s at {self.server}")
            return self

    def _launch(
        self,
        wanted: list[str],
        nodes: int,
        deadline: float,
        previous_ports: dict[str, int],
        progress: Callable[[str], None],
    ) -> None:
        ports = self._choose_ports(previous_ports)
        with_node = "kubelet" in wanted
        if with_node:
            # The port of real clusters (kind, kubeadm): NetworkPolicies see the API
            # server's own port after the Service's DNAT, and the chart allows 443/6443.
            if ports["apiserver"] != node.APISERVER_PORT and not _port_free(node.APISERVER_PORT):
                raise RuntimeError(
                    f"port {node.APISERVER_PORT} is taken: the real node's API server listens there"
                )
            ports["apiserver"] = node.APISERVER_PORT
            # Pods reach the API server through the `kubernetes` Service, which
            # points at the node's bridge address.
            node.claim_machine(self.state_dir)
            node.setup_host_network()
        advertise = node.NODE_IP if with_node else _advertise_address()
        st = {
            "k8s_version": K8S_VERSION,
            "bin_dir": str(self.bins.dir),
            "components": wanted,
            "ports": ports,
            "advertise_address": advertise,
        }
        for sub in ("logs", "run", "pki", "etcd-data"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.state_dir / "etcd-data").chmod(0o700)
        self.pki.chmod(0o700)
        self._make_pki(advertise)
        (self.state_dir / "state.json").write_text(json.dumps(st, indent=1))
        self._write_kubeconfigs(ports["apiserver"])
        self._spawn("etcd", self._etcd_argv(ports))
        self._wait(deadline, "etcd", self._etcd_healthy)
        self._spawn("kube-apiserver", self._apiserver_argv(ports, advertise, with_node))
        self._wait(deadline, "kube-apiserver /readyz", self._apiserver_ready)
        with_controllers = "kube-controller-manager" in wanted
        with_kwok = "kwok" in wanted
        if with_controllers:
            self._spawn("kube-controller-manager", self._kcm_argv(ports))
            self._spawn("kube-scheduler", self._scheduler_argv(ports))
        if with_kwok:
            self._spawn("kwok", self._kwok_argv(ports))
            self._ensure_nodes(nodes)
        if with_controllers:
            for name in ("kube-controller-manager", "kube-scheduler"):
                self._wait(deadline, f"{name} /healthz", partial(self._component_healthy, name))
            self._wait(deadline, "default ServiceAccount", self._default_sa_exists)
        if with_kwok:
            self._wait(
                deadline, f"{nodes} Ready fake Node(s)", lambda: self._ready_nodes() >= nodes
            )
        if with_node:
            self._start_node(ports, deadline, progress)

    # --- the real node (tests/cluster/node.py) ------------------------------------

    @property
    def node_paths(self) -> node.NodePaths:
        return node.NodePaths(self.state_dir / "node")

    def ctr(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """containerd's ``ctr`` on the node's socket, in the CRI's namespace."""
        sock = self.node_paths.containerd_socket
        return subprocess.run(
            [self._exe("ctr"), "--address", str(sock), "--namespace", "k8s.io", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
        )

    def import_images(self, archives: list[Path]) -> None:
        """Load image archives (``docker save`` / Docker archive format) into the node."""
        for archive in archives:
            self.ctr("images", "import", str(archive))

    def _start_node(
        self, ports: dict[str, int], deadline: float, progress: Callable[[str], None]
    ) -> None:
        p, pki = self.node_paths, self.pki
        for d in (p.containerd_root, p.containerd_state, p.cni_conf_dir, p.kubelet_dir, p.volumes):
            d.mkdir(parents=True, exist_ok=True)
        p.containerd_config.write_text(node.containerd_config(p))
        (p.cni_conf_dir / "10-skyras.conflist").write_text(node.cni_config(p))
        (p.root / "resolv.conf").write_text("# pods with dnsPolicy Default: no resolver\n")
        p.kubelet_config.write_text(node.kubelet_config(p, pki, ports))
        p.proxy_config.write_text(
            node.proxy_config(p, self.state_dir / "kube-proxy.kubeconfig", ports)
        )
        # Our v2 shim first: Debian's docker.io brings a containerd 1.6 shim that v2 cannot use.
        self._spawn(
            "containerd",
            [self._exe("containerd"), "--config", str(p.containerd_config)],
            path_first=Path(self._exe("containerd")).parent,
        )
        self._wait(deadline, "containerd", lambda: bool(self.ctr("version", timeout=5)))
        self.import_images(node.node_image_archives(self.bins, p.images))
        self._spawn(
            "kubelet",
            [
                self._exe("kubelet"),
                f"--config={p.kubelet_config}",
                f"--kubeconfig={self.state_dir / 'kubelet.kubeconfig'}",
                f"--root-dir={p.kubelet_dir}",
                f"--hostname-override={node.NODE_NAME}",
                f"--node-ip={node.NODE_IP}",
                "--v=1",
            ],
        )
        self._wait(deadline, f"Node {node.NODE_NAME} Ready", self._real_node_ready)
        self._spawn("kube-proxy", [self._exe("kube-proxy"), f"--config={p.proxy_config}", "--v=1"])
        self._spawn(
            "kube-router",
            [
                self._exe("kube-router"),
                f"--kubeconfig={self.kubeconfig}",
                f"--hostname-override={node.NODE_NAME}",
                "--run-firewall=true",
                "--run-router=false",
                "--run-service-proxy=false",
                "--enable-cni=false",
                f"--health-port={ports['router_health']}",
                "--metrics-port=0",
                "--v=1",
            ],
        )
        self.kubectl("apply", "-f", "-", input=node.coredns_manifest())
        self.kubectl("apply", "-f", "-", input=node.provisioner_config(p))
        self._spawn(
            "local-path-provisioner",
            [
                self._exe("local-path-provisioner"),
                "start",
                f"--kubeconfig={self.kubeconfig}",
                "--namespace=kube-system",
                f"--configmap-name={node.PROVISIONER_CONFIGMAP}",
                f"--service-account-name={node.PROVISIONER_SA}",
                f"--helper-image={node.BUSYBOX_IMAGE}",
                "--provisioner-name=rancher.io/local-path",
            ],
        )
        self._wait(deadline, "CoreDNS Ready", self._coredns_ready)
        progress(f"real node {node.NODE_NAME} Ready at {node.NODE_IP} (pods {node.POD_CIDR})")

    def _real_node_ready(self) -> bool:
        status, body = self.api("GET", f"/api/v1/nodes/{node.NODE_NAME}")
        return status == 200 and is_ready(body)

    def _coredns_ready(self) -> bool:
        status, body = self.api(
            "GET", "/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns"
        )
        return status == 200 and isinstance(body, dict) and any(map(is_ready, body["items"]))

    def stop(self, timeout: float = 15, progress: Callable[[str], None] | None = None) -> None:
        """Stop every component (SIGTERM, then SIGKILL after ``timeout`` s). Keeps the data."""
        with self._lock():
            self._stop_locked(timeout=timeout, progress=progress)

    def purge(self) -> None:
        """Stop, then remove the state directory."""
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pids(self) -> dict[str, int]:
        """Component -> pid of the running ones."""
        return {n: pid for n in COMPONENTS if (pid := self._pid(n)) and self._running(n)}

    def is_running(self) -> bool:
        wanted = self._state().get("components") or []
        return bool(wanted) and all(self._running(n) for n in wanted)

    def status(self) -> list[ComponentStatus]:
        """One entry per component: pid, whether it runs, its health endpoint's answer."""
        out: list[ComponentStatus] = []
        if not (self.state_dir / "state.json").exists():
            return out
        wanted = self._state().get("components") or list(COMPONENTS)
        for name in COMPONENTS:
            if name not in wanted and not self._pid_path(name).exists():
                continue
            pid = self._pid(name)
            running = self._running(name)
            healthy, detail = False, "stopped"
            if running:
                try:
                    healthy = {
                        "etcd": self._etcd_healthy,
                        "kube-apiserver": self._apiserver_ready,
                    }.get(name, lambda n=name: self._component_healthy(n))()
                    detail = "ok" if healthy else "not healthy"
                except Exception as e:  # report, don't fail
                    detail = f"error: {e}"
            out.append(ComponentStatus(name, pid, running, healthy, detail, self.log_path(name)))
        return out

    # --- processes -----------------------------------------------------------

    def _exe(self, name: str) -> str:
        st = self._state()
        base = Path(st["bin_dir"]) if st.get("bin_dir") else self.bins.dir
        return str(base / name)

    def _pid(self, name: str) -> int | None:
        try:
            return int(self._pid_path(name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _running(self, name: str) -> bool:
        pid = self._pid(name)
        return pid is not None and _pid_alive(pid, self._exe(name))

    def _spawn(self, name: str, argv: list[str], path_first: Path | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG",)}
        if path_first is not None:
            env["PATH"] = os.pathsep.join([str(path_first), env.get("PATH", "")])
        with self.log_path(name).open("ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                argv,
                cwd=self.state_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own session and process group: detached
                close_fds=True,
                env=env,
                preexec_fn=_die_with(os.getpid()) if self._die_with_parent else None,
            )
        self._procs[name] = proc
        self._pid_path(name).write_text(f"{proc.pid}\n")

    def _stop_locked(
        self, timeout: float = 15, progress: Callable[[str], None] | None = None
    ) -> None:
        had_node = self._pid("kubelet") is not None or self._pid("containerd") is not None
        for name in reversed(COMPONENTS):
            if name == "containerd" and had_node:
                killed = node.kill_pods(self.node_paths)  # they outlive containerd
                if progress and killed:
                    progress(f"killed {killed} container process(es) of the node")
            pid = self._pid(name)
            proc = self._procs.pop(name, None)
            if pid is None:
                continue
            if _pid_alive(pid, self._exe(name)):
                if progress:
                    progress(f"stopping {name} (pid {pid})")
                self._signal(pid, signal.SIGTERM)
                if not self._wait_gone(pid, proc, timeout):
                    self._signal(pid, signal.SIGKILL)
                    self._wait_gone(pid, proc, 10)
            elif proc is not None:
                proc.poll()
            self._pid_path(name).unlink(missing_ok=True)
        if had_node:
            node.cleanup_host(self.node_paths, self.bins)

    @staticmethod
    def _signal(pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            try:
                if os.getpgid(pid) == pid:  # its own group (setsid): signal the group
                    os.killpg(pid, sig)
                    return
            except ProcessLookupError:
                return
            os.kill(pid, sig)

    @staticmethod
    def _wait_gone(pid: int, proc: subprocess.Popen[bytes] | None, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc is not None:
                if proc.poll() is not None:
                    return True
            elif not _pid_alive(pid):
                return True
            time.sleep(0.1)
        return False

    def _wait(self, deadline: float, what: str, ok: Callable[[], bool]) -> None:
        last: Exception | None = None
        while time.monotonic() < deadline:
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {proc.returncode} while waiting for {what}; "
                        f"log {self.log_path(name)}:\n{self._tail(name)}"
                    )
            try:
                if ok():
                    return
            except Exception as e:
                last = e
            time.sleep(0.25)
        raise TimeoutError(f"timed out waiting for {what} (last error: {last})")

    def _tail(self, name: str, lines: int = 30) -> str:
        try:
            return "".join(
                self.log_path(name).read_text(errors="replace").splitlines(True)[-lines:]
            )
        except OSError:
            return ""

    def _choose_ports(self, previous: dict[str, int]) -> dict[str, int]:
        """Reuse the previous ports when free (etcd remembers its peer URL), else new ones."""
        names = (
            "etcd",
            "etcd_peer",
            "apiserver",
            "controller_manager",
            "scheduler",
            "kwok",
            *node.NODE_PORTS,
        )
        ports: dict[str, int] = {}
        for n in names:
            p = previous.get(n)
            if not (p and p not in ports.values() and _port_free(p)):
                p = _free_port()
                while p in ports.values():
                    p = _free_port()
            ports[n] = p
        return ports

    # --- PKI and kubeconfigs ---------------------------------------------------

    def _make_pki(self, advertise: str) -> None:
        pki = self.pki
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        if not (pki / "ca.crt").exists():
            _openssl(
                "req",
                "-x509",
                *ec,
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "3650",
                "-subj",
                "/CN=skyras-test-kubernetes-ca",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
                cwd=pki,
            )
            for f in pki.glob("*"):
                if f.name not in ("ca.crt", "ca.key"):
                    f.unlink()
        if not (pki / "sa.key").exists():
            _openssl(
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "sa.key",
                cwd=pki,
            )
            _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)
        sans = [
            "DNS:localhost",
            "DNS:kubernetes",
            "DNS:kubernetes.default",
            "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local",
            "IP:127.0.0.1",
            "IP:10.96.0.1",
            f"IP:{advertise}",
        ]
        leaves = {
            "apiserver": ("/CN=kube-apiserver", "serverAuth", ",".join(sans)),
            "admin": ("/O=system:masters/CN=skyras-admin", "clientAuth", None),
            "controller-manager": ("/CN=system:kube-controller-manager", "clientAuth", None),
            "scheduler": ("/CN=system:kube-scheduler", "clientAuth", None),
            "apiserver-kubelet-client": (
                "/O=system:masters/CN=kube-apiserver-kubelet-client",
                "clientAuth",
                None,
            ),
            "kubelet": (f"/O=system:nodes/CN=system:node:{node.NODE_NAME}", "clientAuth", None),
            "kube-proxy": ("/CN=system:kube-proxy", "clientAuth", None),
        }
        for name, (subj, usage, san) in leaves.items():
            marker = pki / f"{name}.san"
            if (pki / f"{name}.crt").exists() and (
                san is None or (marker.exists() and marker.read_text() == san)
            ):
                continue
            ext = [
                "basicConstraints=critical,CA:FALSE",
                "keyUsage=critical,digitalSignature,keyEncipherment",
                f"extendedKeyUsage={usage}",
            ]
            if san:
                ext.append(f"subjectAltName={san}")
            (pki / f"{name}.ext").write_text("\n".join(ext) + "\n")
            _openssl(
                "req",
                "-new",
                *ec,
                "-keyout",
                f"{name}.key",
                "-out",
                f"{name}.csr",
                "-subj",
                subj,
                cwd=pki,
            )
            _openssl(
                "x509",
                "-req",
                "-in",
                f"{name}.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-set_serial",
                str(int.from_bytes(os.urandom(8), "big")),
                "-days",
                "3650",
                "-extfile",
                f"{name}.ext",
                "-out",
                f"{name}.crt",
                cwd=pki,
            )
            (pki / f"{name}.csr").unlink()
            (pki / f"{name}.ext").unlink()
            if san:
                marker.write_text(san)
        for f in pki.glob("*.key"):
            f.chmod(0o600)

    def _write_kubeconfigs(self, port: int) -> None:
        server = f"https://127.0.0.1:{port}"
        for name, path in (
            ("admin", self.kubeconfig),
            ("controller-manager", self.state_dir / "controller-manager.kubeconfig"),
            ("scheduler", self.state_dir / "scheduler.kubeconfig"),
            ("kubelet", self.state_dir / "kubelet.kubeconfig"),
            ("kube-proxy", self.state_dir / "kube-proxy.kubeconfig"),
        ):
            user = {
                "admin": "skyras-admin",
                "kubelet": f"system:node:{node.NODE_NAME}",
                "kube-proxy": "system:kube-proxy",
            }.get(name, f"system:kube-{name}")
            text = f"""apiVersion: v1
kind: Config
clusters:
- name: skyras-test
  cluster:
    server: {server}
    certificate-authority-data: {_b64(self.pki / "ca.crt")}
users:
- name: {user}
  user:
    client-certificate-data: {_b64(self.pki / f"{name}.crt")}
    client-key-data: {_b64(self.pki / f"{name}.key")}
contexts:
- name: skyras-test
  context:
    cluster: skyras-test
    user: {user}
    namespace: default
current-context: skyras-test
"""
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.chmod(0o600)
            tmp.replace(path)

    # --- command lines -------------------------------------------------------

    def _etcd_argv(self, p: dict[str, int]) -> list[str]:
        client, peer = f"http://127.0.0.1:{p['etcd']}", f"http://127.0.0.1:{p['etcd_peer']}"
        return [
            self._exe("etcd"),
            "--name=skyras",
            f"--data-dir={self.state_dir / 'etcd-data'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=skyras={peer}",
            "--initial-cluster-state=new",
            "--unsafe-no-fsync",  # a test cluster: speed over durability
            "--log-level=warn",
        ]

    def _apiserver_argv(self, p: dict[str, int], advertise: str, with_node: bool) -> list[str]:
        pki = self.pki
        return [
            self._exe("kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{p['etcd']}",
            # With the real node, pods reach it on the node's bridge address too.
            f"--bind-address={'0.0.0.0' if with_node else '127.0.0.1'}",
            f"--secure-port={p['apiserver']}",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
            # `kubectl logs/exec/port-forward` reach the kubelet by its IP (no DNS names the node).
            "--kubelet-preferred-address-types=InternalIP",
            f"--advertise-address={advertise}",
            f"--cert-dir={pki / 'apiserver-generated'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true",
            "--profiling=false",
            "--event-ttl=1h",
            "--v=1",
        ]

    def _kcm_argv(self, p: dict[str, int]) -> list[str]:
        kc = self.state_dir / "controller-manager.kubeconfig"
        pki = self.pki
        return [
            self._exe("kube-controller-manager"),
            f"--kubeconfig={kc}",
            f"--authentication-kubeconfig={kc}",
            f"--authorization-kubeconfig={kc}",
            "--bind-address=127.0.0.1",
            f"--secure-port={p['controller_manager']}",
            f"--cert-dir={pki / 'controller-manager-generated'}",
            "--leader-elect=false",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            "--use-service-account-credentials=true",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}",
            f"--cluster-signing-key-file={pki / 'ca.key'}",
            "--cluster-name=skyras-test",
            "--controllers=*,bootstrapsigner,tokencleaner",
            "--v=1",
        ]

    def _scheduler_argv(self, p: dict[str, int]) -> list[str]:
        kc = self.state_dir / "scheduler.kubeconfig"
        return [
            self._exe("kube-scheduler"),
            f"--kubeconfig={kc}",
            f"--authentication-kubeconfig={kc}",
            f"--authorization-kubeconfig={kc}",
            "--bind-address=127.0.0.1",
            f"--secure-port={p['scheduler']}",
            f"--cert-dir={self.pki / 'scheduler-generated'}",
            "--leader-elect=false",
            "--v=1",
        ]

    def _kwok_argv(self, p: dict[str, int]) -> list[str]:
        stages = Path(self._state().get("bin_dir") or self.bins.dir) / "kwok-stages.yaml"
        return [
            self._exe("kwok"),
            f"--kubeconfig={self.kubeconfig}",
            f"--config={stages}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
            "--disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom",
            f"--cidr={POD_CIDR}",
            "--node-ip=127.0.0.1",
            "--node-lease-duration-seconds=40",
            f"--server-address=127.0.0.1:{p['kwok']}",
        ]

    # --- talking to the API server ----------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return ctx

    def api(
        self, method: str, path: str, body: object | None = None, timeout: float = 10
    ) -> tuple[int, object]:
        """A raw API request as admin; returns (status, decoded JSON or text)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self._ssl(), timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
            e.close()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def _apiserver_ready(self) -> bool:
        try:
            status, _ = self.api("GET", "/readyz", timeout=3)
        except (OSError, RuntimeError):
            return False
        return status == 200

    def _etcd_healthy(self) -> bool:
        port = self._state()["ports"]["etcd"]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=3) as r:
                return json.loads(r.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    def _component_healthy(self, name: str) -> bool:
        ports = self._state()["ports"]
        if name == "kwok":
            url = f"http://127.0.0.1:{ports['kwok']}/healthz"
            ctx = None
        else:
            port = ports["controller_manager" if name == "kube-controller-manager" else "scheduler"]
            url = f"https://127.0.0.1:{port}/healthz"
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # self-signed serving cert, loopback only
        try:
            with urllib.request.urlopen(url, timeout=3, context=ctx) as r:
                return r.status == 200
        except OSError:
            return False

    def _default_sa_exists(self) -> bool:
        status, _ = self.api("GET", "/api/v1/namespaces/default/serviceaccounts/default")
        return status == 200

    def _ensure_nodes(self, count: int) -> None:
        for i in range(count):
            name = f"kwok-node-{i}"
            res = {"cpu": "32", "memory": "256Gi", "pods": "110"}
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {
                        KWOK_NODE_ANNOTATION: "fake",
                        "node.alpha.kubernetes.io/ttl": "0",
                    },
                    "labels": {
                        "kubernetes.io/arch": "amd64",
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/hostname": name,
                        "type": "kwok",
                    },
                },
                "spec": {},
                "status": {
                    "allocatable": res,
                    "capacity": res,
                    "nodeInfo": {
                        "architecture": "amd64",
                        "operatingSystem": "linux",
                        "kubeletVersion": K8S_VERSION,
                        "kubeProxyVersion": K8S_VERSION,
                    },
                },
            }
            status, body = self.api("POST", "/api/v1/nodes", node)
            if status not in (201, 409):
                raise RuntimeError(f"creating Node {name}: {status} {body}")

    def _ready_nodes(self) -> int:
        status, body = self.api("GET", "/api/v1/nodes")
        if status != 200 or not isinstance(body, dict):
            return 0
        return sum(map(is_ready, body.get("items", [])))


def is_ready(obj: object) -> bool:
    """A Node's or Pod's ``Ready`` condition is True."""
    if not isinstance(obj, dict):
        return False
    conds = obj.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


class ExternalCluster:
    """A cluster given by ``KUBECONFIG`` (e.g. kind); same surface, nothing to start or stop."""

    def __init__(self, kubeconfig: str | os.PathLike[str]):
        self.kubeconfig = Path(kubeconfig)
        self.state_dir = None

    @property
    def _kubectl(self) -> str:
        found = shutil.which("kubectl")
        if found:
            return found
        return str(ensure_binaries(("kubectl",)).kubectl)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["KUBECONFIG"] = str(self.kubeconfig)
        if bin_dir().is_dir():
            env["PATH"] = os.pathsep.join([env.get("PATH", ""), str(bin_dir())])
        return env

    def kubectl(
        self, *args: str, check: bool = True, timeout: float = 60, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self._kubectl, "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            input=input,
            env=self.env(),
        )

    def start(self, **_: object) -> ExternalCluster:
        """Validate only: the API server answers /readyz."""
        res = self.kubectl("get", "--raw", "/readyz", "--request-timeout=10s", check=False)
        if res.returncode != 0 or res.stdout.strip() != "ok":
            raise RuntimeError(
                f"external cluster at {self.kubeconfig} is not ready: {res.stderr or res.stdout}"
            )
        return self

    def stop(self, **_: object) -> None:
        pass

    def is_running(self) -> bool:
        try:
            self.start()
        except RuntimeError:
            return False
        return True


def external_requested() -> bool:
    return os.environ.get("SKYRAS_KUBE_EXTERNAL") == "1" and bool(os.environ.get("KUBECONFIG"))


@contextlib.contextmanager
def cluster(
    state_dir: str | os.PathLike[str] | None = None,
    with_kwok: bool = True,
    nodes: int = 2,
    die_with_parent: bool = True,
) -> Iterator[ControlPlane | ExternalCluster]:
    """The external cluster if ``SKYRAS_KUBE_EXTERNAL=1`` and ``KUBECONFIG`` are set, else a
    local ControlPlane in ``state_dir``, started for the ``with`` block and stopped after it
    (and killed with this process if it dies first; see ``ControlPlane.__init__``)."""
    if external_requested():
        yield ExternalCluster(os.environ["KUBECONFIG"]).start()
        return
    cp = ControlPlane(state_dir, die_with_parent=die_with_parent)
    cp.start(with_kwok=with_kwok, nodes=nodes)
    try:
        yield cp
    finally:
        cp.stop()


def shell_exports(kubeconfig: Path, bins: Path) -> str:
    """The two lines that point a shell at a cluster and at the pinned kubectl/helm."""
    return (
        f"export KUBECONFIG={shlex.quote(str(kubeconfig))}\n"
        f'export PATH={shlex.quote(str(bins))}:"$PATH"\n'
    )


def wait_for(ok: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    """Poll ``ok`` until true or raise TimeoutError after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ok():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
