"""`skyras keys` against a hub in `required` mode: the seed's calls need a key, and keys work."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from skyras.testing import ServiceProcess

SEED_TASK = {"title": "Test task", "priority": "high"}


def skyras(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skyras.cli", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_keys_from_the_cli_open_the_hub_and_revoking_closes_it(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**service_env, "SKYRAS_AUTH_MODE": "required", "SKYRAS_AUTH_CACHE_SECONDS": "0"}
    cli_env = {**os.environ, **env}
    with ServiceProcess("skyras_hub.main:app", env, log=tmp_path / "hub.log") as hub:
        url = f"{hub.url}/api/v2/agents/status"
        without = httpx.get(url)

        created = skyras(cli_env, "keys", "create", "--name", "studio-laptop", "--scope", "read")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()
        assert key.startswith("sk_") and "not shown again" in created.stderr
        with_key = httpx.get(url, headers={"Authorization": f"Bearer {key}"})
        write_with_read_key = httpx.post(
            f"{hub.url}/api/v2/agents/marcus/task",
            json=SEED_TASK,
            headers={"Authorization": f"Bearer {key}"},
        )

        listed = skyras(cli_env, "keys", "list")
        revoked = skyras(cli_env, "keys", "revoke", "studio-laptop")
        after = httpx.get(url, headers={"Authorization": f"Bearer {key}"})
        bad_scope = skyras(cli_env, "keys", "create", "--name", "x", "--scope", "root")

    assert without.status_code == 401 and without.json()["error"]["code"] == "unauthorized"
    assert with_key.status_code == 200
    assert write_with_read_key.status_code == 403
    assert "studio-laptop" in listed.stdout and "read" in listed.stdout
    assert key not in listed.stdout  # the secret is never shown again
    assert revoked.returncode == 0 and "revoked 1" in revoked.stdout
    assert after.status_code == 401
    assert bad_scope.returncode == 1
    assert "unknown scope(s) root" in bad_scope.stderr and "Traceback" not in bad_scope.stderr
