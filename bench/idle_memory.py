"""Idle memory and start-up time (DESIGN.md §9: every service ≤ 120 MB resident when idle;
`skyras up` healthy ≤ 15 s).

1. hub, marcus, letitia, jamal and ari as real uvicorn processes (agents registered with
   the hub), idle for a few seconds; their resident set (VmRSS) is printed.
2. `skyras up` in a temp project (the repo's agent manifests with free ports,
   a fresh data dir) is timed until it prints "SkyRas is up." (every service
   healthy and registered): cold (initdb, migrations) and warm (same data
   dir again); with the frontend too when Node is installed.
   Each run is stopped with `skyras down`.

    .venv/bin/python -m bench.idle_memory
    .venv/bin/python -m bench.idle_memory --idle 10 --no-frontend
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._stack import ROOT, infrastructure, verdict
from skyras.embedded import free_port

TARGET_MB = 120
TARGET_UP_S = 15
SKYRAS = [sys.executable, "-m", "skyras.cli"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def idle_rss(idle: float) -> None:
    with infrastructure() as infra:
        hub = infra.start("hub")
        marcus = infra.start("marcus")
        letitia = infra.start("letitia")
        jamal = infra.start("jamal", SKYRAS_HUB_URL=hub.url)
        ari = infra.start("ari", SKYRAS_LETITIA_URL=letitia.url)
        agents = {"marcus": marcus, "letitia": letitia, "jamal": jamal, "ari": ari}
        for name, agent in agents.items():
            infra.register(hub, name, agent)
        time.sleep(idle)
        print(f"resident memory after {idle:g} s idle (target ≤ {TARGET_MB} MB each):")
        for name, proc in {"hub": hub, **agents}.items():
            assert proc.proc is not None
            mb = rss_mb(proc.proc.pid)
            print(f"  {name:<8} {mb:6.1f} MB  {verdict(mb <= TARGET_MB)}")


def make_project(base: Path, frontend: bool) -> Path:
    project = base / "project"
    agents = project / "manifests" / "agents"
    agents.mkdir(parents=True)
    for name in ("marcus", "letitia"):
        text = (ROOT / "manifests" / "agents" / f"{name}.yaml").read_text()
        old = re.search(r"^  port: (\d+)$", text, re.M)
        assert old is not None
        (agents / f"{name}.yaml").write_text(text.replace(old[1], str(free_port())))
    if frontend:
        (project / "services").mkdir()
        (project / "services" / "frontend").symlink_to(ROOT / "services" / "frontend")
    return project


def time_up(project: Path, data_dir: Path, frontend: bool, timeout: float = 120) -> float:
    """Seconds from launching `skyras up` to "SkyRas is up."; RSS of its services printed."""
    output = project / f"up-{time.monotonic_ns()}.log"
    args = [*SKYRAS, "up", "--hub-port", str(free_port()), "--data-dir", str(data_dir),
            "--postgres-port", str(free_port()), "--redis-port", str(free_port())]  # fmt: skip
    args += ["--frontend-port", str(free_port())] if frontend else ["--no-frontend"]
    started = time.perf_counter()
    with open(output, "wb") as out:
        proc = subprocess.Popen(args, cwd=project, stdout=out, stderr=subprocess.STDOUT)
    try:
        while "SkyRas is up." not in output.read_text(errors="replace"):
            if proc.poll() is not None:
                raise RuntimeError(f"skyras up exited:\n{output.read_text(errors='replace')}")
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"not up in {timeout}s:\n{output.read_text(errors='replace')}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        state = json.loads((data_dir / "state.json").read_text())
        rss = ", ".join(f"{p['name']} {rss_mb(p['pid']):.0f} MB" for p in state["processes"])
        print(f"    (just after start: {rss})")
        return elapsed
    finally:
        subprocess.run([*SKYRAS, "down", "--data-dir", str(data_dir)], cwd=project,
                       capture_output=True, timeout=120, check=False)  # fmt: skip
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.idle_memory",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle (default 5)")
    parser.add_argument("--no-frontend", action="store_true", help="skip the run with frontend")
    args = parser.parse_args()

    idle_rss(args.idle)
    runs = [False] + ([True] if not args.no_frontend and shutil.which("node") else [])
    for frontend in runs:
        base = Path(tempfile.mkdtemp(prefix="skyras-bench-up-"))
        try:
            project = make_project(base, frontend)
            label = "with frontend" if frontend else "--no-frontend"
            print(f"skyras up {label} (target healthy ≤ {TARGET_UP_S} s):")
            for kind in ("cold (fresh data dir)", "warm (same data dir)"):
                seconds = time_up(project, base / "data", frontend)
                print(f"  {kind:<24} {seconds:5.1f} s  {verdict(seconds <= TARGET_UP_S)}")
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
