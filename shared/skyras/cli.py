"""`skyras`: run SkyRas locally, migrate its database, manage API keys.

Every failure the user can fix prints one line saying what to do and exits
non-zero; no traceback.
"""

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from skyras import apikeys
from skyras.db import connect
from skyras.embedded import EmbeddedServerError
from skyras.manifests import ManifestError, load_manifest
from skyras.migrate import MigrationError, apply_migrations
from skyras.register import RegistrationError, make_registry_key, register_manifests
from skyras.runner import (
    LocalRunner,
    RunnerError,
    RunnerState,
    default_data_dir,
    find_project_root,
    health_of,
    pid_alive,
    stop_running,
)

app = typer.Typer(
    help="SkyRas v2: a creative studio's agents (Marcus, Letitia, ...) behind one hub.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Create, list and revoke the hub's API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where embedded Postgres/Redis data, logs and state live "
        "[default: SKYRAS_DATA_DIR or .skyras/ in the project]",
    ),
]


def _data_dir(option: Path | None) -> Path:
    return option.resolve() if option else default_data_dir(find_project_root())


def _database_url(data_dir: Path | None = None) -> str:
    """SKYRAS_DATABASE_URL, else the database of the running local system."""
    url = os.environ.get("SKYRAS_DATABASE_URL")
    if url:
        return url
    state = RunnerState.load(_data_dir(data_dir))
    if state is None:
        raise RunnerError("no database: set SKYRAS_DATABASE_URL or start SkyRas with `skyras up`")
    return state.database_url


@app.command()
def up(
    agents: Annotated[
        str | None,
        typer.Option(help="Comma-separated agents to start, e.g. marcus,letitia [default: all]"),
    ] = None,
    frontend: Annotated[bool, typer.Option(help="Start the frontend too (needs Node)")] = True,
    hub_port: Annotated[int, typer.Option(envvar="SKYRAS_HUB_PORT", help="The hub's port")] = 8000,
    frontend_port: Annotated[
        int, typer.Option(envvar="SKYRAS_FRONTEND_PORT", help="The frontend's port")
    ] = 3000,
    postgres_port: Annotated[
        int, typer.Option(help="Embedded Postgres's port (a free one when taken)")
    ] = 5432,
    redis_port: Annotated[
        int, typer.Option(help="Embedded Redis's port (a free one when taken)")
    ] = 6379,
    data_dir: DataDirOption = None,
) -> None:
    """Start Postgres, Redis, the hub, the agents and the frontend; Ctrl-C stops them all."""
    root = find_project_root()
    wanted = [a.strip() for a in agents.split(",") if a.strip()] if agents else None
    runner = LocalRunner(
        root,
        _data_dir(data_dir),
        agents=wanted,
        frontend=frontend,
        hub_port=hub_port,
        frontend_port=frontend_port,
        postgres_port=postgres_port,
        redis_port=redis_port,
    )
    with contextlib.suppress(KeyboardInterrupt):
        runner.up()


@app.command()
def down(data_dir: DataDirOption = None) -> None:
    """Stop a running `skyras up` (every process it started, and its embedded servers)."""
    typer.echo(stop_running(_data_dir(data_dir)))


@app.command()
def status(data_dir: DataDirOption = None) -> None:
    """Show every process, its port and health, and the Postgres and Redis URLs."""
    state = RunnerState.load(_data_dir(data_dir))
    if state is None or not pid_alive(state.runner_pid):
        typer.echo("SkyRas is not running (start it with `make up` or `skyras up`)")
        raise typer.Exit(1)
    typer.echo(f"runner    pid {state.runner_pid}")
    for proc in state.processes:
        alive = "running" if pid_alive(proc.pid) else "exited"
        typer.echo(
            f"{proc.name:<9} pid {proc.pid:<7} {proc.url:<24} {alive}, {health_of(proc.health)}"
        )
    typer.echo(f"postgres  {state.database_url}{' (embedded)' * state.database_embedded}")
    typer.echo(f"redis     {state.redis_url}{' (embedded)' * state.redis_embedded}")
    typer.echo(f'psql "{state.database_url}"')
    typer.echo(f"redis-cli -u {state.redis_url}")


@app.command()
def smoke(
    checks: Annotated[
        list[str] | None, typer.Argument(help="health, task, search, status [default: all]")
    ] = None,
    hub: Annotated[str, typer.Option(envvar="SKYRAS_HUB_URL", help="The hub's URL")] = (
        "http://127.0.0.1:8000"
    ),
    key: Annotated[
        str, typer.Option(envvar="SKYRAS_API_KEY", help="API key (read and write scopes)")
    ] = "",
    timeout: Annotated[float, typer.Option(help="Seconds each check retries")] = 60.0,
) -> None:
    """Check a running SkyRas through its hub: health, a task, a search, agents' status."""
    from skyras import smoke as smoke_checks

    chosen = checks or list(smoke_checks.CHECKS)
    unknown = [c for c in chosen if c not in smoke_checks.CHECKS]
    if unknown:
        raise RunnerError(
            f"unknown check(s) {', '.join(unknown)}; choose from {', '.join(smoke_checks.CHECKS)}"
        )
    failures = smoke_checks.run_checks(hub, key, chosen, timeout)
    if failures:
        raise typer.Exit(1)


@app.command()
def migrate(data_dir: DataDirOption = None) -> None:
    """Apply pending database migrations (SKYRAS_DATABASE_URL, or the running local system's)."""
    applied = asyncio.run(apply_migrations(_database_url(data_dir)))
    for migration in applied:
        typer.echo(f"applied {migration.version:04d}_{migration.name}")
    typer.echo(f"{len(applied)} migration(s) applied" if applied else "database is up to date")


@app.command()
def register(
    manifests: Annotated[
        list[Path], typer.Argument(help="Agent manifests (manifests/agents/*.yaml)", exists=True)
    ],
    hub: Annotated[
        str, typer.Option(envvar="SKYRAS_HUB_URL", help="The hub's base URL")
    ] = "http://127.0.0.1:8000",
    endpoint: Annotated[
        str,
        typer.Option(
            help="Where the hub reaches each agent; {name} and {port} come from its manifest"
        ),
    ] = "http://{name}:{port}",
    key_name: Annotated[
        str, typer.Option(help="Name of the registry key made for this run (the last one revoked)")
    ] = "register",
) -> None:
    """Register agents with the hub from their manifests (Docker Compose runs this once).

    Needs SKYRAS_DATABASE_URL: it makes its own `registry` key there.
    """
    loaded = [load_manifest(path) for path in manifests]
    token = asyncio.run(make_registry_key(_database_url(), key_name))
    register_manifests(
        hub,
        token,
        loaded,
        endpoint=lambda m: endpoint.format(name=m.name, port=m.spec.port),
        report=typer.echo,
    )


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for")],
    scope: Annotated[
        list[str], typer.Option(help="read, write, admin or registry; repeat for several")
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""

    async def run() -> tuple[apikeys.ApiKey, str]:
        conn = await connect(_database_url(data_dir))
        try:
            created = await apikeys.create_key(conn, name=name, scopes=scope)
            await conn.commit()
            return created
        finally:
            await conn.close()

    try:
        key, plaintext = asyncio.run(run())
    except ValueError as exc:
        raise RunnerError(str(exc)) from exc
    typer.echo(plaintext)
    typer.echo(
        f"# key {key.prefix} '{key.name}' scopes {','.join(key.scopes)}: store it now, "
        "it is not shown again",
        err=True,
    )


@keys_app.command("import")
def keys_import(
    keys: Annotated[
        list[str],
        typer.Argument(help="NAME=SCOPE[,SCOPE...]; the key itself is read from $PREFIX<NAME>"),
    ],
    env_prefix: Annotated[
        str, typer.Option(help="Environment variable prefix holding each key")
    ] = "SKYRAS_BOOTSTRAP_KEY_",
    data_dir: DataDirOption = None,
) -> None:
    """Store keys generated elsewhere (the Helm chart's); a key already there is left alone."""
    wanted = []
    for item in keys:
        name, _, scope_list = item.partition("=")
        variable = f"{env_prefix}{name.upper().replace('-', '_')}"
        plaintext = os.environ.get(variable, "")
        if not name or not plaintext:
            raise RunnerError(f"{item!r}: expected NAME=SCOPES with the key in ${variable}")
        wanted.append((name, [s for s in scope_list.split(",") if s], plaintext))

    async def run() -> list[bool]:
        conn = await connect(_database_url(data_dir))
        try:
            results = [
                await apikeys.import_key(conn, name=n, scopes=s, plaintext=p) for n, s, p in wanted
            ]
            await conn.commit()
            return results
        finally:
            await conn.close()

    try:
        results = asyncio.run(run())
    except ValueError as exc:
        raise RunnerError(str(exc)) from exc
    for (name, scopes, _), imported in zip(wanted, results, strict=True):
        typer.echo(
            f"key {name} ({','.join(scopes)}): {'imported' if imported else 'already present'}"
        )


@keys_app.command("list")
def keys_list(data_dir: DataDirOption = None) -> None:
    """List API keys (never their secrets)."""

    async def run() -> list[apikeys.ApiKey]:
        conn = await connect(_database_url(data_dir))
        try:
            return await apikeys.list_keys(conn)
        finally:
            await conn.close()

    typer.echo(f"{'PREFIX':<10} {'NAME':<24} {'SCOPES':<28} {'CREATED':<20} STATE")
    for key in asyncio.run(run()):
        state = "revoked" if key.revoked_at else "active"
        typer.echo(
            f"{key.prefix:<10} {key.name:<24} {','.join(key.scopes):<28} "
            f"{key.created_at:%Y-%m-%d %H:%M:%S}  {state}"
        )


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's name, prefix or id")],
    data_dir: DataDirOption = None,
) -> None:
    """Revoke API keys by name, prefix or id."""

    async def run() -> int:
        conn = await connect(_database_url(data_dir))
        try:
            count = await apikeys.revoke_key(conn, key)
            await conn.commit()
            return count
        finally:
            await conn.close()

    count = asyncio.run(run())
    if count == 0:
        raise RunnerError(f"no active key named or prefixed {key!r}")
    typer.echo(f"revoked {count} key(s)")


def main() -> None:
    try:
        app()
    except (
        RunnerError,
        ManifestError,
        MigrationError,
        EmbeddedServerError,
        RegistrationError,
    ) as exc:
        typer.secho(f"skyras: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        typer.secho(f"skyras: cannot reach Postgres: {first_line}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
