"""Our container images, built here by Docker for the real node.

No container registry is reachable from this machine, so the public base
images the Dockerfiles default to (python, node, postgres, redis) are replaced
in tests by stand-ins built from Debian packages (``mmdebstrap`` +
``docker import``, DESIGN.md section 8). Each stand-in keeps the interface the
Dockerfiles and the chart rely on: the same paths (``/usr/local/bin/python``,
``/usr/local/bin/node``), entrypoint, users (postgres and redis are uid 999) and
environment variables. They differ in versions (Debian bookworm: Python 3.11.2,
PostgreSQL 15, Redis 7.0; Node is the machine's own Node 20) and they carry this
machine's CA bundle and npm settings, so builds inside them reach the package
indexes the way the machine does.

Stand-ins are tagged by a hash of their recipe and kept in Docker's image
store, and Docker keeps its build cache beside them, so only the first build on
a machine is slow. ``docker build`` runs with the classic builder on the host's
network: BuildKit's frontend image cannot be pulled here, and dockerd runs
without its own bridge and iptables rules (they would break the node's pod
network), see :func:`ensure_dockerd`.

    python -m tests.cluster images          # build the stand-ins and our images, load them
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .controlplane import ControlPlane

REPO = Path(__file__).resolve().parents[2]
SUITE = "bookworm"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What Debian's slim images tell dpkg (also for packages installed in builds on them):
# no docs or man pages, but every package's copyright file.
SLIM_DPKG_OPTIONS = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
)
HOST_APT_SOURCES = Path("/etc/apt/sources.list.d")
DOCKER_HOST_SOCKET = Path("/var/run/docker.sock")

Progress = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(f"[images] {msg}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    base = os.environ.get("SKYRAS_CACHE_DIR") or str(Path.home() / ".cache" / "skyras")
    return Path(base) / "images"


# ---------------------------------------------------------------------------
# Docker engine


def _docker(
    *args: str, timeout: float = 60, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=check
    )


def docker_ready() -> bool:
    try:
        return (
            _docker("info", "--format", "{{.ServerVersion}}", timeout=10, check=False).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_dockerd(progress: Progress = _stderr) -> None:
    """Start Debian's dockerd unless a Docker engine already answers.

    Without ``docker0`` and iptables rules: Docker's FORWARD policy (DROP)
    would cut the node's pod traffic, and builds use the host network anyway.
    It keeps running after the tests (its image store is the cache);
    ``python -m tests.cluster down`` (``make kube-down``) stops it.
    """
    if docker_ready():
        return
    dockerd = shutil.which("dockerd")
    if not dockerd or not shutil.which("docker"):
        raise RuntimeError("dockerd not found: run `make system-deps` (Debian package docker.io)")
    cache_dir().mkdir(parents=True, exist_ok=True)
    log = cache_dir() / "dockerd.log"
    progress(f"starting dockerd (log {log})")
    with log.open("ab") as out:
        subprocess.Popen(
            [
                dockerd,
                "--bridge=none",
                "--iptables=false",
                "--ip-forward=false",
                "--ip-masq=false",
                "--pidfile",
                str(cache_dir() / "dockerd.pid"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while not docker_ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"dockerd did not answer within 60 s; see {log}")
        time.sleep(0.5)


def stop_dockerd() -> None:
    """Stop the dockerd that :func:`ensure_dockerd` started (none other)."""
    pid_file = cache_dir() / "dockerd.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().strip() or 0)
    if pid:
        subprocess.run(["kill", str(pid)], check=False)
        for _ in range(60):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.5)


def image_exists(ref: str) -> bool:
    return _docker("image", "inspect", ref, check=False).returncode == 0


# ---------------------------------------------------------------------------
# Base-image stand-ins


@dataclass(frozen=True)
class BaseImage:
    """A Debian stand-in for a public base image (same interface, see the module doc)."""

    name: str
    public: str  # what the Dockerfiles and the chart default to
    packages: tuple[str, ...]
    hooks: tuple[str, ...]  # mmdebstrap customize hooks ("$1" is the root)
    changes: tuple[str, ...]  # Dockerfile instructions for `docker import --change`
    host_files: tuple[str, ...] = field(default=())  # host paths the hooks copy in

    @property
    def ref(self) -> str:
        return f"skyras-base/{self.name}:{SUITE}-{self.recipe_hash()}"

    def recipe_hash(self) -> str:
        recipe = json.dumps(
            [SUITE, SLIM_DPKG_OPTIONS, self.packages, self.hooks, self.changes], sort_keys=True
        )
        digest = hashlib.sha256(recipe.encode())
        for path in (HOST_CA_BUNDLE, *map(Path, self.host_files)):
            if path.is_file():
                digest.update(path.read_bytes())
        return digest.hexdigest()[:12]


# Every stand-in trusts the machine's CA bundle, for pip, npm and apt inside builds.
_CA = (
    f'mkdir -p "$1/etc/ssl/certs" && cp {HOST_CA_BUNDLE} "$1{HOST_CA_BUNDLE}"',
    'rm -rf "$1/var/lib/apt/lists/"* "$1/var/cache/apt/"*.bin',
)
_CA_ENV = (
    f"ENV SSL_CERT_FILE={HOST_CA_BUNDLE}",
    f"ENV PIP_CERT={HOST_CA_BUNDLE}",
    f"ENV NODE_EXTRA_CA_CERTS={HOST_CA_BUNDLE}",
)


def _service_user(name: str, home: str) -> str:
    """The official images' service users are uid/gid 999; Debian's postinst picks others."""
    return (
        f'chroot "$1" sh -c "groupmod -g 999 {name} && usermod -u 999 -g 999 {name}'
        f' && mkdir -p {home} && chown -R 999:999 {home}"'
    )


_POSTGRES_ENTRYPOINT = r"""#!/bin/sh
# Stand-in for the official image's docker-entrypoint.sh: initialise PGDATA once
# from POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, then run the server.
set -eu
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
    user="${POSTGRES_USER:-postgres}"
    mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
    pwfile="$(mktemp)"; printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    db="${POSTGRES_DB:-$user}"
    if [ "$db" != postgres ]; then
        postgres --single -D "$PGDATA" -c listen_addresses='' postgres <<SQL >/dev/null
CREATE DATABASE "$db" OWNER "$user";
SQL
    fi
fi
if [ "$1" = postgres ]; then shift; exec postgres -c listen_addresses='*' "$@"; fi
exec "$@"
"""

_PG_BIN = "/usr/lib/postgresql/15/bin"
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

BASE_IMAGES: dict[str, BaseImage] = {
    "python": BaseImage(
        name="python",
        public="python:3.11-slim-bookworm",
        packages=("python3", "python3-venv", "ca-certificates", "passwd"),
        hooks=(
            *_CA,
            'ln -sf /usr/bin/python3 "$1/usr/local/bin/python"',
            'ln -sf /usr/bin/python3 "$1/usr/local/bin/python3"',
        ),
        changes=(f"ENV PATH={_PATH}", "ENV LANG=C.UTF-8", *_CA_ENV, 'CMD ["python3"]'),
    ),
    "node": BaseImage(
        name="node",
        public="node:20-bookworm-slim",
        # The machine's Node 20 (Debian bookworm's nodejs is 18), with npm and its settings.
        packages=("ca-certificates", "passwd", "libstdc++6"),
        hooks=(
            *_CA,
            'cp /usr/bin/node "$1/usr/local/bin/node"',
            'mkdir -p "$1/usr/local/lib" && cp -a /usr/lib/node_modules "$1/usr/local/lib/"',
            'ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"',
            'ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
            'mkdir -p "$1/usr/local/etc" && { [ ! -f /root/.npmrc ] || cp /root/.npmrc "$1/usr/local/etc/npmrc"; }',
        ),
        changes=(f"ENV PATH={_PATH}", *_CA_ENV, 'CMD ["node"]'),
        host_files=("/usr/bin/node", "/root/.npmrc"),
    ),
    "postgres": BaseImage(
        name="postgres",
        public="postgres:17-bookworm",
        packages=("postgresql-15", "ca-certificates"),
        hooks=(
            *_CA,
            'rm -rf "$1/var/lib/postgresql/15" "$1/etc/postgresql/15"',
            _service_user("postgres", "/var/lib/postgresql/data /var/run/postgresql"),
            "cat > \"$1/usr/local/bin/docker-entrypoint.sh\" <<'EOF'\n"
            + _POSTGRES_ENTRYPOINT
            + "EOF\n"
            'chmod 755 "$1/usr/local/bin/docker-entrypoint.sh"',
        ),
        changes=(
            f"ENV PATH={_PG_BIN}:{_PATH}",
            "ENV PGDATA=/var/lib/postgresql/data",
            "ENV LANG=C.UTF-8",
            'ENTRYPOINT ["docker-entrypoint.sh"]',
            'CMD ["postgres"]',
            "EXPOSE 5432",
        ),
    ),
    "redis": BaseImage(
        name="redis",
        public="redis:7.4-bookworm",
        packages=("redis-server", "redis-tools"),
        hooks=(*_CA, _service_user("redis", "/data")),
        changes=(f"ENV PATH={_PATH}", "WORKDIR /data", 'CMD ["redis-server"]', "EXPOSE 6379"),
    ),
}


def _apt_sources() -> list[str]:
    """The machine's own apt sources (deb822 files), so no mirror is named here."""
    found = sorted(str(p) for p in HOST_APT_SOURCES.glob("*.sources"))
    if not found:
        raise RuntimeError(
            f"no *.sources file in {HOST_APT_SOURCES}: cannot tell mmdebstrap a mirror"
        )
    return found


def build_base_image(base: BaseImage, progress: Progress = _stderr) -> str:
    """The stand-in's reference; built (about a minute) only when its recipe changed."""
    if image_exists(base.ref):
        return base.ref
    if not shutil.which("mmdebstrap"):
        raise RuntimeError("mmdebstrap not found: run `make system-deps`")
    cache_dir().mkdir(parents=True, exist_ok=True)
    log = cache_dir() / f"base-{base.name}.log"
    started = time.monotonic()
    progress(f"building base stand-in {base.ref} for {base.public} (log {log})")
    with tempfile.TemporaryDirectory(prefix="skyras-base-") as tmp:
        tarball = Path(tmp) / "rootfs.tar"
        argv = [
            "mmdebstrap",
            "--variant=minbase",
            "--mode=root",
            "--include=" + ",".join(base.packages),
            *(f"--dpkgopt={option}" for option in SLIM_DPKG_OPTIONS),
            *(f"--customize-hook={hook}" for hook in base.hooks),
            SUITE,
            str(tarball),
            *_apt_sources(),
        ]
        with log.open("w") as out:
            done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"mmdebstrap failed for {base.name}; see {log}")
        changes = [arg for change in base.changes for arg in ("--change", change)]
        _docker("import", *changes, str(tarball), base.ref, timeout=600)
    progress(f"built {base.ref} in {time.monotonic() - started:.0f} s")
    return base.ref


def build_base_images(progress: Progress = _stderr) -> dict[str, str]:
    ensure_dockerd(progress)
    cache_dir().mkdir(parents=True, exist_ok=True)
    # One builder at a time: a second waits, then finds the images built.
    with (cache_dir() / ".base.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return {name: build_base_image(base, progress) for name, base in BASE_IMAGES.items()}


# ---------------------------------------------------------------------------
# Our images


PYTHON_DOCKERFILE = "docker/python-service.Dockerfile"


@dataclass(frozen=True)
class ProjectImage:
    name: str  # skyras/<name>
    dockerfile: str
    base_arg: str  # the Dockerfile's ARG naming its base image
    base: str  # key of BASE_IMAGES
    build_args: tuple[tuple[str, str], ...] = ()  # skaffold.yaml passes the same
    target: str | None = None  # None: the Dockerfile's last stage


def python_image(
    name: str,
    project: str,
    port: int,
    description: str,
    *,
    system_packages: str = "",
    target: str | None = None,
    health_path: str = "/health",
) -> ProjectImage:
    """One of our Python images: docker/python-service.Dockerfile with its arguments
    (those the Dockerfile defaults are left out; PACKAGE only where uvicorn serves it)."""
    args = {"SERVICE": name, "PROJECT": project, "PORT": str(port), "DESCRIPTION": description}
    if target is None:
        args["PACKAGE"] = "skyras_" + name
    if health_path != "/health":
        args["HEALTH_PATH"] = health_path
    if system_packages:
        args["SYSTEM_PACKAGES"] = system_packages
    return ProjectImage(
        name, PYTHON_DOCKERFILE, "PYTHON_IMAGE", "python", tuple(args.items()), target
    )


PROJECT_IMAGES: tuple[ProjectImage, ...] = (
    python_image("hub", "services/hub", 8000, "SkyRas hub (and the skyras CLI)"),
    python_image("marcus", "services/marcus", 8001, "SkyRas agent Marcus: tasks and scheduling"),
    python_image("letitia", "services/letitia", 8002, "SkyRas agent Letitia: the asset library"),
    # ffmpeg and ffprobe do Ari's signal work.
    python_image(
        "ari",
        "services/ari",
        8003,
        "SkyRas agent Ari: loudness analysis and mastering",
        system_packages="ffmpeg",
    ),
    python_image("jamal", "services/jamal", 8004, "SkyRas agent Jamal: distribution"),
    # The typography module finds these below /usr/share/fonts (SKYRAS_FONT_DIRS changes
    # that); pinned to bookworm's versions, so that every build draws the same glyphs.
    python_image(
        "giorgio",
        "services/giorgio",
        8005,
        "SkyRas agent Giorgio: cover artwork and release copy",
        system_packages="fonts-dejavu-core=2.37-6 fonts-noto-cjk=1:20220127+repack1-1",
    ),
    python_image(
        "operator",
        "operator",
        8080,
        "SkyRas operator (kopf) for Agent resources",
        target="operator",
        health_path="/healthz",
    ),
    ProjectImage("frontend", "services/frontend/Dockerfile", "NODE_IMAGE", "node"),
)


def chart_app_version() -> str:
    """The tag the chart and `manifests/agents/*.yaml` give our images by default."""
    for line in (REPO / "charts" / "skyras" / "Chart.yaml").read_text().splitlines():
        if line.startswith("appVersion:"):
            return line.split(":", 1)[1].strip().strip("\"'")
    raise RuntimeError("charts/skyras/Chart.yaml has no appVersion")


def build_project_image(
    image: ProjectImage, tag: str, bases: dict[str, str], progress: Progress = _stderr
) -> str:
    ref = f"skyras/{image.name}:{tag}"
    log = cache_dir() / f"build-{image.name}.log"
    started = time.monotonic()
    progress(f"building {ref} from {image.dockerfile} (log {log})")
    argv = [
        "docker",
        "build",
        "--network=host",
        "--file",
        image.dockerfile,
        "--build-arg",
        f"{image.base_arg}={bases[image.base]}",
        *(arg for key, value in image.build_args for arg in ("--build-arg", f"{key}={value}")),
        *(("--target", image.target) if image.target else ()),
        "--tag",
        ref,
        ".",
    ]
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    with log.open("w") as out:
        done = subprocess.run(
            argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=1800
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-25:])
        raise RuntimeError(f"docker build of {ref} failed (log {log}):\n{tail}")
    progress(f"built {ref} in {time.monotonic() - started:.0f} s")
    return ref


def build_project_images(
    tag: str | None = None, names: tuple[str, ...] | None = None, progress: Progress = _stderr
) -> list[str]:
    """Build the stand-ins, then our images as skyras/<name>:<tag> (default: appVersion)."""
    bases = build_base_images(progress)
    tag = tag or chart_app_version()
    chosen = [i for i in PROJECT_IMAGES if names is None or i.name in names]
    return [build_project_image(image, tag, bases, progress) for image in chosen]


def save_images(refs: list[str], archive: Path) -> Path:
    """One Docker archive holding `refs`, for `ctr images import` on the node."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    _docker("save", "--output", str(archive), *refs, timeout=900)
    return archive


def node_values(bases: dict[str, str]) -> dict[str, object]:
    """Chart values (flat --set-json keys) that point the chart at the stand-ins."""
    values: dict[str, object] = {}
    for name in ("postgres", "redis"):
        repository, tag = bases[name].rsplit(":", 1)
        values[f"{name}.image.repository"] = repository
        values[f"{name}.image.tag"] = tag
    return values


def load_into_node(cp: ControlPlane, refs: list[str], progress: Progress = _stderr) -> None:
    """Import `refs` into the real node's containerd (kubelet then finds them locally)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="skyras-images-", dir=cache_dir()) as tmp:
        archive = save_images(refs, Path(tmp) / "images.tar")
        cp.import_images([archive])
    progress(f"loaded {len(refs)} images into the node in {time.monotonic() - started:.0f} s")


def build_and_load(cp: ControlPlane, progress: Progress = _stderr) -> dict[str, object]:
    """Everything the chart needs on the node; returns the chart values for the stand-ins."""
    ours = build_project_images(progress=progress)
    bases = build_base_images(progress)
    load_into_node(cp, [*ours, bases["postgres"], bases["redis"]], progress)
    return node_values(bases)
