"""Build the pinned Kubernetes binaries from their Go modules, cached by version.

Used by :mod:`tests.cluster.controlplane` (``ensure_binaries``) and by
``python -m tests.cluster build``. Nothing is built inside the repo: the
throwaway Go module and the binaries live in
``${SKYRAS_CACHE_DIR:-~/.cache/skyras}/kube/<k8s-version>/``; a stamp file
records which version of each binary is there, so a machine builds once.

Stdlib only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .go.gomod import kubernetes_gomod

# ---------------------------------------------------------------------------
# Pinned versions. Change them together; the cache directory is keyed by the
# Kubernetes version and each binary's stamp by its own version.
K8S_VERSION = "v1.37.2"
# The etcd server release that k8s.io/kubernetes v1.37.2 itself requires.
ETCD_VERSION = "v3.7.0"
KWOK_VERSION = "v0.8.0"
HELM_VERSION = "v4.3.1"
# The real node (tests/cluster/node.py). Kubernetes >= 1.36 needs containerd 2.x.
CONTAINERD_VERSION = "v2.4.2"
COREDNS_VERSION = "v1.15.0"
# The only kube-router release the module proxy serves here; it runs only its
# NetworkPolicy firewall (iptables + ipset, which this kernel has) in test clusters.
KUBE_ROUTER_VERSION = "v2.1.0"
LOCAL_PATH_VERSION = "v0.0.30"
# Docker Compose (the `docker compose` plugin and `docker-compose`): Debian bookworm ships
# only Compose v1; the docker-compose.yml test needs v2 or later.
COMPOSE_VERSION = "v5.6.0"
# ---------------------------------------------------------------------------

K8S_COMPONENTS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kubelet",
    "kube-proxy",
)


@dataclass(frozen=True)
class GoTool:
    """A binary that `go install <module>/<package>@<version>` builds as it is."""

    module: str
    version: str
    package: str = ""  # inside the module; "" = its root
    ldflags: str = "-s -w"
    tags: str = ""
    # Built inside a copy of the module: `go install pkg@version` refuses a go.mod with
    # replace or exclude directives.
    as_main_module: bool = False

    @property
    def target(self) -> str:
        path = f"{self.module}/{self.package}" if self.package else self.module
        return f"{path}@{self.version}"


_CONTAINERD = "github.com/containerd/containerd/v2"
GO_TOOLS = {
    "kwok": GoTool(
        "sigs.k8s.io/kwok",
        KWOK_VERSION,
        "cmd/kwok",
        f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={KWOK_VERSION}"
        f" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion={K8S_VERSION}",
    ),
    "helm": GoTool(
        "helm.sh/helm/v4",
        HELM_VERSION,
        "cmd/helm",
        f"-s -w -X helm.sh/helm/v4/internal/version.version={HELM_VERSION}"
        " -X helm.sh/helm/v4/internal/version.gitTreeState=clean",
    ),
    **{
        name: GoTool(
            _CONTAINERD,
            CONTAINERD_VERSION,
            f"cmd/{name}",
            f"-s -w -X {_CONTAINERD}/version.Version={CONTAINERD_VERSION}",
            tags="no_btrfs",  # no btrfs headers needed (CGO is off anyway)
        )
        for name in ("containerd", "containerd-shim-runc-v2", "ctr")
    },
    "coredns": GoTool("github.com/coredns/coredns", COREDNS_VERSION),
    "kube-router": GoTool(
        "github.com/cloudnativelabs/kube-router/v2", KUBE_ROUTER_VERSION, "cmd/kube-router"
    ),
    "local-path-provisioner": GoTool(
        "github.com/rancher/local-path-provisioner", LOCAL_PATH_VERSION
    ),
    "docker-compose": GoTool(
        "github.com/docker/compose/v5",
        COMPOSE_VERSION,
        "cmd",
        f"-s -w -X github.com/docker/compose/v5/internal.Version={COMPOSE_VERSION}",
        as_main_module=True,
    ),
}
# The node's pause (sandbox) container: build/pause/linux/pause.c of the release, gcc -static.
PAUSE = "pause"
ALL_BINARIES = (*K8S_COMPONENTS, "etcd", *GO_TOOLS, PAUSE)
KWOK_STAGES = "kwok-stages.yaml"
# Stages shipped inside the kwok module (kwok >= 0.8 starts with none).
_KWOK_STAGE_FILES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
)

_STAMP = ".stamp.json"
_HERE = Path(__file__).resolve().parent


def cache_root() -> Path:
    base = os.environ.get("SKYRAS_CACHE_DIR") or str(Path.home() / ".cache" / "skyras")
    return Path(base) / "kube" / K8S_VERSION


def bin_dir() -> Path:
    return cache_root() / "bin"


@dataclass(frozen=True)
class BinPaths:
    """Absolute paths of the built binaries (all in one directory)."""

    dir: Path

    def __getitem__(self, name: str) -> Path:
        return self.dir / name

    @property
    def kube_apiserver(self) -> Path:
        return self.dir / "kube-apiserver"

    @property
    def kube_controller_manager(self) -> Path:
        return self.dir / "kube-controller-manager"

    @property
    def kube_scheduler(self) -> Path:
        return self.dir / "kube-scheduler"

    @property
    def kubectl(self) -> Path:
        return self.dir / "kubectl"

    @property
    def etcd(self) -> Path:
        return self.dir / "etcd"

    @property
    def kwok(self) -> Path:
        return self.dir / "kwok"

    @property
    def helm(self) -> Path:
        return self.dir / "helm"

    @property
    def pause(self) -> Path:
        return self.dir / PAUSE

    @property
    def kwok_stages(self) -> Path:
        return self.dir / KWOK_STAGES


def wanted_versions() -> dict[str, str]:
    """What each cached file must have been built from."""
    v = {name: f"k8s.io/kubernetes@{K8S_VERSION}" for name in K8S_COMPONENTS}
    v["etcd"] = f"go.etcd.io/etcd/server/v3@{ETCD_VERSION}"
    for name, tool in GO_TOOLS.items():
        v[name] = f"{tool.module}@{tool.version}"
    v[PAUSE] = f"k8s.io/kubernetes@{K8S_VERSION}/build/pause"
    v[KWOK_STAGES] = v["kwok"]
    return v


def _read_stamp(d: Path) -> dict[str, str]:
    try:
        return json.loads((d / _STAMP).read_text())
    except (OSError, ValueError):
        return {}


def missing_binaries(names: tuple[str, ...] | None = None) -> list[str]:
    """Binaries (and data files) that are absent or stamped with another version."""
    d = bin_dir()
    stamp = _read_stamp(d)
    want = wanted_versions()
    names = tuple(want) if names is None else names
    return [n for n in names if stamp.get(n) != want[n] or not (d / n).is_file()]


def binaries_ready() -> bool:
    return not missing_binaries()


# --- go helpers --------------------------------------------------------------


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GOTOOLCHAIN"] = "local"  # never fetch another toolchain
    env["CGO_ENABLED"] = "0"  # static binaries, as the upstream release builds are
    env["GOFLAGS"] = " ".join(
        f for f in ([*env.get("GOFLAGS", "").split(), "-buildvcs=false"]) if f
    )
    return env


def _go() -> str:
    go = shutil.which("go")
    if not go:
        raise RuntimeError("the Go toolchain (go) is needed to build the Kubernetes binaries")
    return go


def _mod_download(module_at_version: str, log: Path) -> dict:
    out = subprocess.run(
        [_go(), "mod", "download", "-json", module_at_version],
        env=_go_env(),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    with log.open("a") as f:
        f.write(f"$ go mod download -json {module_at_version}\n{out.stdout}{out.stderr}\n")
    try:
        info = json.loads(out.stdout)
    except ValueError:
        info = {"Error": out.stderr.strip() or "no output"}
    if out.returncode != 0 or info.get("Error"):
        raise RuntimeError(f"go mod download {module_at_version}: {info.get('Error')}")
    return info


def _run_logged(
    argv: list[str],
    cwd: Path,
    log: Path,
    what: str,
    progress: Callable[[str], None],
    env: dict[str, str] | None = None,
) -> float:
    """Run a (niced) build command, reporting elapsed seconds every 30 s."""
    start = time.monotonic()
    progress(f"building {what} ...")
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    with log.open("a") as f:
        f.write(f"\n$ (cd {cwd} && {' '.join(argv)})\n")
        f.flush()
        proc = subprocess.Popen(
            nice + argv,
            cwd=cwd,
            env=env or _go_env(),
            stdin=subprocess.DEVNULL,
            stdout=f,
            stderr=subprocess.STDOUT,
        )
        try:
            next_report = start + 30
            while proc.poll() is None:
                time.sleep(0.5)
                now = time.monotonic()
                if now >= next_report:
                    progress(f"  ... still building {what} ({now - start:.0f}s)")
                    next_report = now + 30
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-40:])
        raise RuntimeError(f"building {what} failed (exit {proc.returncode}); log {log}:\n{tail}")
    progress(f"built {what} in {elapsed:.0f}s")
    return elapsed


def _k8s_ldflags(build_date: str) -> str:
    major, minor = K8S_VERSION.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={K8S_VERSION}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate={build_date}",  # the release's time, for reproducible builds
            f"-X {pkg}.gitCommit=",  # the module proxy does not tell the commit
        ]
    return " ".join(flags)


def _prepare_k8s_module(src: Path, log: Path) -> str:
    """Write the throwaway module (go.mod with the staging replaces + etcd's main).

    Returns the release time of k8s.io/kubernetes (for the buildDate ldflag).
    """
    info = _mod_download(f"k8s.io/kubernetes@{K8S_VERSION}", log)
    gomod = kubernetes_gomod(
        K8S_VERSION,
        Path(info["GoMod"]).read_text(),
        {"go.etcd.io/etcd/server/v3": ETCD_VERSION},
    )
    src.mkdir(parents=True, exist_ok=True)
    (src / "etcd").mkdir(exist_ok=True)
    (src / "etcd" / "main.go").write_text((_HERE / "go" / "etcd_main.go.txt").read_text())
    if not (src / "go.mod").is_file() or (src / "go.mod").read_text() != gomod:
        (src / "go.mod").write_text(gomod)
        (src / "go.sum").unlink(missing_ok=True)
    try:
        released = json.loads(Path(info["Info"]).read_text())["Time"]
    except (KeyError, OSError, ValueError):
        released = "1970-01-01T00:00:00Z"
    return str(released)


def _build_in_module_copy(
    name: str, tool: GoTool, root: Path, log: Path, progress: Callable[[str], None]
) -> float:
    """`go build` of `tool.package` with the module itself as the main module."""
    module_dir = Path(_mod_download(f"{tool.module}@{tool.version}", log)["Dir"])
    with tempfile.TemporaryDirectory(dir=root, prefix=f".src-{name}-") as tmp:
        src = Path(tmp) / "module"
        shutil.copytree(module_dir, src)  # the module cache is read-only
        for path in (src, *src.rglob("*")):
            path.chmod(path.stat().st_mode | 0o200)
        out = bin_dir() / f".{name}.tmp"
        argv = [_go(), "build", "-trimpath", "-ldflags", tool.ldflags, "-o", str(out)]
        secs = _run_logged(
            [*argv, f"./{tool.package}"], src, log, f"{name} ({tool.target})", progress
        )
        out.replace(bin_dir() / name)
    return secs


def install_compose() -> Path:
    """Make the built Compose answer as `docker compose` and as `docker-compose`.

    Symlinks: ~/.docker/cli-plugins/docker-compose (where the docker CLI looks for
    plugins) and /usr/local/bin/docker-compose (the prototype's command).
    """
    binary = ensure_binaries(("docker-compose",))["docker-compose"]
    for link in (
        Path.home() / ".docker" / "cli-plugins" / "docker-compose",
        Path("/usr/local/bin/docker-compose"),
    ):
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            if link.resolve() == binary.resolve():
                continue
            link.unlink()
        link.symlink_to(binary)
    return binary


@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".build.lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _stderr(msg: str) -> None:
    print(f"[kube build] {msg}", file=sys.stderr, flush=True)


def ensure_binaries(
    names: tuple[str, ...] | None = None,
    progress: Callable[[str], None] | None = None,
) -> BinPaths:
    """Build whatever is missing (all binaries by default) and return their paths.

    Cheap when everything is cached: it only reads the stamp file. Safe to call
    from several processes at once (a file lock serialises the builds).
    """
    progress = progress or _stderr
    root, d = cache_root(), bin_dir()
    if not missing_binaries(names):
        return BinPaths(d)
    with _build_lock(root):
        todo = missing_binaries(names)  # another process may have built them meanwhile
        if not todo:
            return BinPaths(d)
        d.mkdir(parents=True, exist_ok=True)
        log = root / "build.log"
        src = root / "src"
        progress(f"building {', '.join(todo)} into {d} (log: {log})")
        timings: dict[str, float] = {}
        total = time.monotonic()
        want = wanted_versions()

        def done(name: str, seconds: float | None = None) -> None:
            stamp = _read_stamp(d)
            stamp[name] = want[name]
            tmp = d / (_STAMP + ".tmp")
            tmp.write_text(json.dumps(stamp, indent=1, sort_keys=True))
            tmp.replace(d / _STAMP)
            if seconds is not None:
                timings[name] = seconds

        k8s_todo = [n for n in (*K8S_COMPONENTS, "etcd") if n in todo]
        build_date = ""
        if k8s_todo:
            build_date = _prepare_k8s_module(src, log)
        for name in k8s_todo:
            target = "./etcd" if name == "etcd" else f"k8s.io/kubernetes/cmd/{name}"
            ldflags = "-s -w" if name == "etcd" else _k8s_ldflags(build_date)
            tmp_out = d / f".{name}.tmp"
            secs = _run_logged(
                [
                    _go(),
                    "build",
                    "-mod=mod",
                    "-trimpath",
                    "-ldflags",
                    ldflags,
                    "-o",
                    str(tmp_out),
                    target,
                ],
                src,
                log,
                f"{name} ({want[name]})",
                progress,
            )
            tmp_out.replace(d / name)
            done(name, secs)

        for name, tool in GO_TOOLS.items():
            if name not in todo:
                continue
            if tool.as_main_module:
                secs = _build_in_module_copy(name, tool, root, log, progress)
                done(name, secs)
                continue
            argv = [_go(), "install", "-trimpath", "-ldflags", tool.ldflags]
            if tool.tags:
                argv += ["-tags", tool.tags]
            with tempfile.TemporaryDirectory(dir=root, prefix=f".gobin-{name}-") as gobin:
                env = _go_env()
                env["GOBIN"] = gobin
                secs = _run_logged(
                    [*argv, tool.target],
                    Path(tempfile.gettempdir()),
                    log,
                    f"{name} ({want[name]})",
                    progress,
                    env=env,
                )
                Path(gobin, name).replace(d / name)
            done(name, secs)

        if PAUSE in todo:
            k8s_dir = Path(_mod_download(f"k8s.io/kubernetes@{K8S_VERSION}", log)["Dir"])
            tmp_out = d / f".{PAUSE}.tmp"
            secs = _run_logged(
                [
                    "gcc",
                    "-Os",
                    "-static",
                    "-Wall",
                    f'-DVERSION="{K8S_VERSION}"',
                    "-o",
                    str(tmp_out),
                    str(k8s_dir / "build" / "pause" / "linux" / "pause.c"),
                ],
                root,
                log,
                f"{PAUSE} ({want[PAUSE]})",
                progress,
            )
            tmp_out.replace(d / PAUSE)
            done(PAUSE, secs)

        if KWOK_STAGES in todo:
            kwok_dir = Path(_mod_download(f"sigs.k8s.io/kwok@{KWOK_VERSION}", log)["Dir"])
            docs = []
            for rel in _KWOK_STAGE_FILES:
                text = (kwok_dir / rel).read_text().strip()
                docs.append(
                    f"# from sigs.k8s.io/kwok@{KWOK_VERSION}/{rel}\n{text.removeprefix('---').strip()}\n"
                )
            (d / KWOK_STAGES).write_text("---\n".join(docs))
            done(KWOK_STAGES)

        if timings:
            parts = ", ".join(f"{n} {s:.0f}s" for n, s in timings.items())
            progress(f"build finished in {time.monotonic() - total:.0f}s ({parts})")
            with (root / "build-times.json").open("a") as f:
                f.write(json.dumps({"at": time.time(), "seconds": timings}) + "\n")
    missing = missing_binaries(names)
    if missing:
        raise RuntimeError(f"still missing after build: {missing}")
    return BinPaths(d)
