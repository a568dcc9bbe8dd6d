"""``python -m tests.cluster build|up|down|status|env`` (run from the repo root).

``make kube-up`` calls ``up``. See ``tests/cluster/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from . import build, images
from .controlplane import (
    ControlPlane,
    ExternalCluster,
    default_state_dir,
    external_requested,
    shell_exports,
)

DESCRIPTION = f"""\
A real Kubernetes cluster on this machine without kind: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok (fake Nodes whose Pods turn Ready, for
scale tests) and, as root, a real node `skyras-node` whose pods run in containers:
containerd + runc, kubelet, kube-proxy, CNI bridge, CoreDNS, kube-router's
NetworkPolicy firewall and the local-path volume provisioner.

Pinned: Kubernetes {build.K8S_VERSION} (kube-apiserver, kube-controller-manager,
kube-scheduler, kubectl, kubelet, kube-proxy), etcd {build.ETCD_VERSION}, kwok
{build.KWOK_VERSION}, helm {build.HELM_VERSION}, containerd {build.CONTAINERD_VERSION},
CoreDNS {build.COREDNS_VERSION}, kube-router {build.KUBE_ROUTER_VERSION}, local-path-provisioner
{build.LOCAL_PATH_VERSION}, Docker Compose {build.COMPOSE_VERSION}; built from their Go modules once into
  {build.bin_dir()}
(SKYRAS_CACHE_DIR moves the cache). State (pki, etcd data, logs, pid files,
kubeconfig) lives in --dir, default $SKYRAS_KUBE_DIR or <repo>/.skyras/kube.

With SKYRAS_KUBE_EXTERNAL=1 and KUBECONFIG pointing at a reachable cluster
(e.g. kind), `up` only validates that cluster.

Typical use:
  python -m tests.cluster up          # builds on first use (~35 min), then ~30 s
  eval "$(python -m tests.cluster env)"
  kubectl get nodes; helm version
  python -m tests.cluster down [--purge]
"""


def _progress(msg: str) -> None:
    print(f"[kube] {msg}", file=sys.stderr, flush=True)


def cmd_build(args: argparse.Namespace) -> int:
    missing = build.missing_binaries()
    if not missing:
        print(f"all binaries cached in {build.bin_dir()}")
    else:
        bins = build.ensure_binaries(progress=_progress)
        print(f"binaries in {bins.dir}")
    print(f"docker compose / docker-compose: {build.install_compose()}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    if external_requested():
        ext = ExternalCluster(os.environ["KUBECONFIG"]).start()
        print(f"# external cluster ok (KUBECONFIG={ext.kubeconfig}); nothing started")
        print(f"export KUBECONFIG={ext.kubeconfig}")
        return 0
    t0 = time.monotonic()
    cp = ControlPlane(args.dir)
    with_node = not args.no_node
    nodes = args.nodes if args.nodes is not None else (0 if with_node else 2)
    cp.start(
        with_kwok=not args.no_kwok,
        nodes=nodes,
        with_node=with_node,
        timeout=args.timeout,
        progress=_progress,
    )
    _progress(f"ready after {time.monotonic() - t0:.1f}s; logs in {cp.state_dir / 'logs'}")
    print(shell_exports(cp.kubeconfig, cp.bins.dir), end="")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    cp = ControlPlane(args.dir)
    if not cp.state_dir.exists():
        print(f"nothing in {cp.state_dir}")
        return 0
    cp.stop(timeout=args.timeout, progress=_progress)
    # The image builder too, when `images` started it (its image store stays: the cache).
    images.stop_dockerd()
    if args.purge:
        cp.purge()
        print(f"stopped; removed {cp.state_dir}")
    else:
        print(f"stopped; state kept in {cp.state_dir} (down --purge removes it)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    if external_requested():
        ok = ExternalCluster(os.environ["KUBECONFIG"]).is_running()
        print(f"external cluster ({os.environ['KUBECONFIG']}): {'ready' if ok else 'NOT ready'}")
        return 0 if ok else 1
    cp = ControlPlane(args.dir)
    rows = cp.status()
    if not rows:
        print(f"no control plane in {cp.state_dir}")
        return 1
    print(f"state dir: {cp.state_dir}")
    with contextlib.suppress(RuntimeError):
        print(f"server:    {cp.server}")
    print(f"{'COMPONENT':<25} {'PID':>8}  {'RUNNING':<8} HEALTH")
    for r in rows:
        print(f"{r.name:<25} {r.pid or '-':>8}  {'yes' if r.running else 'no':<8} {r.detail}")
    healthy = all(r.healthy for r in rows)
    return 0 if healthy else 1


def cmd_images(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    cp = ControlPlane(args.dir)
    if args.no_load:
        images.build_project_images(progress=_progress)
        _progress(f"built in {time.monotonic() - t0:.0f}s")
        return 0
    if not cp.is_running() or "kubelet" not in cp.pids():
        print(
            "error: no real node is running: `make kube-up` first (or --no-load)", file=sys.stderr
        )
        return 1
    values = images.build_and_load(cp, progress=_progress)
    _progress(f"built and loaded in {time.monotonic() - t0:.0f}s; install the chart with:")
    sets = " ".join(f"--set {key}={value}" for key, value in values.items())
    print(f"helm install skyras charts/skyras -n skyras --create-namespace --wait {sets}")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    if external_requested():
        print(f"export KUBECONFIG={os.environ['KUBECONFIG']}")
        return 0
    cp = ControlPlane(args.dir)
    print(shell_exports(cp.kubeconfig, cp.bins.dir), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.cluster",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument(
            "--dir",
            type=Path,
            default=None,
            help=f"state directory (default: {default_state_dir()})",
        )
        return p

    p = sub.add_parser("build", help="build the pinned binaries into the cache (no-op when cached)")
    p.set_defaults(func=cmd_build)
    p = add("up", "build if needed, start the control plane, print the export lines")
    p.add_argument("--no-kwok", action="store_true", help="no kwok and no fake Nodes")
    p.add_argument(
        "--nodes",
        type=int,
        default=None,
        help="fake Nodes for kwok (default 0 beside the real node, 2 without it)",
    )
    p.add_argument(
        "--no-node", action="store_true", help="no real node (no root needed; pods are fake)"
    )
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for readiness")
    p.set_defaults(func=cmd_up)
    p = add("down", "stop every component (SIGTERM, SIGKILL after --timeout)")
    p.add_argument("--purge", action="store_true", help="also remove the state directory")
    p.add_argument("--timeout", type=float, default=15)
    p.set_defaults(func=cmd_down)
    p = add("status", "components, pids and health (exit 1 unless all healthy)")
    p.set_defaults(func=cmd_status)
    p = add(
        "images",
        "build our images (Debian stand-in bases) and load them into the real node",
    )
    p.add_argument("--no-load", action="store_true", help="only build them (no node needed)")
    p.set_defaults(func=cmd_images)
    p = add("env", "print `export KUBECONFIG=...` and `export PATH=...` for eval")
    p.set_defaults(func=cmd_env)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (RuntimeError, TimeoutError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
