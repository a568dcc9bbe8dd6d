"""What every benchmark needs: embedded Postgres and Redis in a temp folder, the
services as real uvicorn processes, agents registered with the hub, and numbers.

Nothing here binds a fixed port (free ports on 127.0.0.1 only) and everything
started is stopped on exit, even on Ctrl-C.
"""

import asyncio
import contextlib
import math
import shutil
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from skyras.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from skyras.manifests import load_manifest
from skyras.migrate import apply_migrations
from skyras.testing import ServiceProcess, create_api_key_sync

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "skyras_bench"

TARGETS = {
    "hub": "skyras_hub.main:app",
    "marcus": "skyras_marcus.main:app",
    "letitia": "skyras_letitia.main:app",
    "jamal": "skyras_jamal.main:app",
    "ari": "skyras_ari.main:app",
}


@dataclass
class Infra:
    workdir: Path
    database_url: str
    redis_url: str
    postgres: EmbeddedPostgres
    redis: EmbeddedRedis
    processes: list[ServiceProcess] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "SKYRAS_DATABASE_URL": self.database_url,
            "SKYRAS_REDIS_URL": self.redis_url,
            "SKYRAS_DATA_DIR": str(self.workdir / "data"),
            "SKYRAS_AUTH_MODE": "loopback-open",
            "SKYRAS_RATE_LIMIT_PER_MINUTE": "100000000",
            "SKYRAS_RATE_LIMIT_BURST": "1000000",
            "SKYRAS_LOG_FORMAT": "json",
            **extra,
        }

    def start(self, name: str, **extra_env: str) -> ServiceProcess:
        proc = ServiceProcess(
            TARGETS[name], self.env(**extra_env), log=self.workdir / f"{name}.log"
        )
        self.processes.append(proc)
        proc.start(timeout=60)
        return proc

    def register(self, hub: ServiceProcess, name: str, agent: ServiceProcess) -> None:
        """PUT the agent's manifest (routes, events, chat) into the hub's registry."""
        token = create_api_key_sync(self.database_url, "registry", name="bench")
        body = load_manifest(ROOT / "manifests" / "agents" / f"{name}.yaml").registration_body(
            agent.url
        )
        response = httpx.put(
            f"{hub.url}/api/v2/registry/agents/{name}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        response.raise_for_status()


@contextlib.contextmanager
def infrastructure(keep: bool = False) -> Iterator[Infra]:
    """Embedded Postgres + Redis on free ports, a migrated database; all gone afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="skyras-bench-"))
    postgres = EmbeddedPostgres(workdir / "postgres", port=free_port())
    redis = EmbeddedRedis(workdir / "redis", port=free_port())
    infra: Infra | None = None
    try:
        postgres.start()
        redis.start()
        with psycopg.connect(postgres.url_for("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
        database_url = postgres.url_for(BENCH_DB)
        asyncio.run(apply_migrations(database_url))
        infra = Infra(workdir, database_url, redis.url, postgres, redis)
        yield infra
    finally:
        if infra is not None:
            for proc in reversed(infra.processes):
                with contextlib.suppress(Exception):
                    proc.stop()
        with contextlib.suppress(Exception):
            redis.stop()
        with contextlib.suppress(Exception):
            postgres.stop(mode="immediate")
        if keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values_s: Sequence[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else math.nan,
        "mean": statistics.fmean(ms) if ms else math.nan,
    }


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"
