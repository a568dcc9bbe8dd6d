"""The migration Job's and the helm test pods' commands, run as processes against
a real hub, Marcus and Letitia (started with their images' commands) on real
Postgres and Redis: the same checks `helm test` runs in a cluster."""

import secrets
import string
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg

from skyras.manifests import load_manifest

from .conftest import REPO, by_kind
from .test_images import image_process


def chart_key() -> str:
    """A key as the chart makes them: sk_<8 lowercase alnum>_<43 alnum>."""
    alnum = string.ascii_letters + string.digits
    prefix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    return f"sk_{prefix}_{''.join(secrets.choice(alnum) for _ in range(43))}"


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    bin_dir = str(Path(sys.executable).parent)
    full = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), **env}
    return subprocess.run(argv, env=full, capture_output=True, text=True, timeout=120)


def test_migration_job_then_helm_tests_pass(
    helm, empty_database_url: str, redis_url: str, tmp_path: Path
) -> None:
    docs = helm.render()
    job = by_kind(docs, "Job")["skyras-migrations"]["spec"]["template"]["spec"]
    migrate = next(c for c in job["initContainers"] if c["name"] == "migrate")["command"]
    import_keys = job["containers"][0]["command"]

    keys = {name: chart_key() for name in ("operator", "frontend", "admin", "test")}
    env = {
        "SKYRAS_DATABASE_URL": empty_database_url,
        "SKYRAS_REDIS_URL": redis_url,
        "SKYRAS_DATA_DIR": str(tmp_path / "data"),
        "SKYRAS_AUTH_MODE": "required",
        **{f"SKYRAS_BOOTSTRAP_KEY_{k.upper()}": v for k, v in keys.items()},
    }
    res = run(migrate, env)
    assert res.returncode == 0 and "migration(s) applied" in res.stdout, res.stderr
    res = run(import_keys, env)
    assert res.returncode == 0 and res.stdout.count("imported") == 4, res.stdout + res.stderr
    res = run(import_keys, env)  # every upgrade runs it again: nothing changes
    assert res.returncode == 0 and res.stdout.count("already present") == 4, res.stdout + res.stderr

    hub, hub_url = image_process("hub", env, tmp_path)
    marcus, marcus_url = image_process("marcus", env, tmp_path)
    letitia, letitia_url = image_process("letitia", env, tmp_path)
    with hub, marcus, letitia:
        # What the operator does with its registry key.
        for name, url in (("marcus", marcus_url), ("letitia", letitia_url)):
            body = load_manifest(REPO / "manifests" / "agents" / f"{name}.yaml").registration_body(
                url
            )
            r = httpx.put(
                f"{hub_url}/api/v2/registry/agents/{name}",
                json=body,
                headers={"Authorization": f"Bearer {keys['operator']}"},
                timeout=10,
            )
            assert r.status_code in (200, 201), r.text
        # The registry key may not write tasks; the test key may.
        r = httpx.post(
            f"{hub_url}/api/v2/agents/marcus/task",
            json={"title": "x"},
            headers={"Authorization": f"Bearer {keys['operator']}"},
            timeout=10,
        )
        assert r.status_code == 403

        pods = {n: d for n, d in by_kind(docs, "Pod").items() if n.startswith("skyras-test-")}
        assert sorted(pods) == [
            "skyras-test-health",
            "skyras-test-search",
            "skyras-test-status",
            "skyras-test-task",
        ]
        for name, pod in sorted(pods.items()):
            cmd = pod["spec"]["containers"][0]["command"]
            cmd = list(cmd)
            cmd[cmd.index("--hub") + 1] = hub_url
            cmd[cmd.index("--timeout") + 1] = "20"
            res = run(cmd, {"SKYRAS_API_KEY": keys["test"]})
            assert res.returncode == 0, f"{name}: {res.stdout}{res.stderr}"
            assert res.stdout.startswith("ok "), res.stdout

        # The checks leave nothing behind in the studio's data.
        with psycopg.connect(empty_database_url) as conn:
            for table in ("tasks", "files"):
                count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                assert count == (0,), f"helm test left {count[0]} row(s) in {table}"

        # Without a key the checks fail, and say so.
        res = run(
            [
                "skyras",
                "smoke",
                "--hub",
                hub_url,
                "--timeout",
                "0",
                "status",
            ],
            {"SKYRAS_API_KEY": ""},
        )
        assert res.returncode == 1 and "FAIL status" in res.stdout and "401" in res.stdout
