"""One owner per table: no service's SQL names another service's tables.

Who owns a table comes from the migration that creates it: `NNNN_<service>_*.sql`
belongs to that service. The prototype's `0001_core.sql` predates those, so its
tables' owners are named here (CORE_OWNERS). Then every SQL string in each
service's package (not its tests) and in the shared library is read for the
tables it names after FROM, JOIN, INTO, UPDATE, TABLE or TRUNCATE; naming a
table another service owns is a violation. Another service learns through
events or HTTP instead (STYLE.md, "From this codebase").
"""

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "shared" / "skyras" / "migrations"
LIBRARY = "skyras"
SERVICES = sorted(
    p.name for p in (ROOT / "services").iterdir() if (p / f"skyras_{p.name}").is_dir()
)

# The owners of 0001_core.sql's tables. The library's tables are every service's
# plumbing: the outbox/audit trail (`events`) each service writes through
# skyras.outbox and reads as its history, the consumers' dedup, API keys.
# None: no owner yet, so every service's use of it is a violation.
CORE_OWNERS: dict[str, str | None] = {
    "tasks": "marcus",
    "files": "letitia",
    "task_files": "letitia",  # DESIGN §4: Letitia writes the link and says file.associated
    "agents": "hub",
    "events": LIBRARY,
    "processed_events": LIBRARY,
    "api_keys": LIBRARY,
}

# Today's violations, to be removed by issue 12's "one owner per table" (links
# get one owner, the other agent learns through events or HTTP). Shrink this
# list as they are fixed; never grow it. (service, table it must not name)
ALLOWED_FOR_NOW: set[tuple[str, str]] = {
    ("letitia", "tasks"),  # reads: lists a file's tasks (GET /api/files/{id}/tasks)
    ("marcus", "files"),  # reads: lists a task's files (GET /api/tasks/{id}/files)
    ("marcus", "task_files"),  # the same read
}

CREATE_TABLE = re.compile(r"\bCREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", re.IGNORECASE)
# SQL keywords are written in capitals in this codebase, which keeps prose out.
NAMES_TABLE = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE)\s+(?:ONLY\s+|IF\s+(?:NOT\s+)?EXISTS\s+)?([a-z_][a-z0-9_]*)"
)


def table_owners() -> dict[str, str | None]:
    owners: dict[str, str | None] = {}
    for migration in sorted(MIGRATIONS.glob("*.sql")):
        created = CREATE_TABLE.findall(migration.read_text(encoding="utf-8"))
        part = migration.stem.split("_")[1]
        if part == "core":
            unnamed = set(created) - set(CORE_OWNERS)
            assert not unnamed, (
                f"{migration.name} creates {sorted(unnamed)}: name their owner in CORE_OWNERS"
            )
            owners.update({table: CORE_OWNERS[table] for table in created})
            continue
        assert part in SERVICES, (
            f"{migration.name}: the name after the number must be a service ({', '.join(SERVICES)})"
        )
        owners.update(dict.fromkeys(created, part))
    return owners


def sources() -> dict[str, Path]:
    packages = {name: ROOT / "services" / name / f"skyras_{name}" for name in SERVICES}
    packages[LIBRARY] = ROOT / "shared" / "skyras"
    return packages


def tables_named(package: Path) -> dict[str, list[str]]:
    """Table name -> where (file:line) a string literal of `package` names it in SQL."""
    named: dict[str, list[str]] = defaultdict(list)
    for module in sorted(package.rglob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
        for node in ast.walk(tree):  # f-strings' literal parts are Constants too
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for table in NAMES_TABLE.findall(node.value):
                    named[table].append(f"{module.relative_to(ROOT)}:{node.lineno}")
    return named


def cross_service_uses() -> dict[tuple[str, str], list[str]]:
    owners = table_owners()
    uses: dict[tuple[str, str], list[str]] = {}
    for user, package in sources().items():
        for table, where in tables_named(package).items():
            if table in owners and owners[table] not in (user, LIBRARY):
                uses[(user, table)] = where
    return uses


def test_every_table_has_one_owning_service_or_the_library() -> None:
    owners = table_owners()
    assert {"tasks", "files", "mastering_jobs", "releases", "generations"} <= owners.keys()
    assert owners["mastering_jobs"] == "ari" and owners["tasks"] == "marcus"


def test_no_service_sql_names_another_services_tables() -> None:
    uses = cross_service_uses()
    new = {use: where for use, where in uses.items() if use not in ALLOWED_FOR_NOW}
    assert not new, (
        "SQL naming another service's table (learn it through events or HTTP):\n"
        + "\n".join(
            f"  {user} names {table} at {', '.join(where)}"
            for (user, table), where in sorted(new.items())
        )
    )
    fixed = ALLOWED_FOR_NOW - uses.keys()
    assert not fixed, f"no longer used, remove from ALLOWED_FOR_NOW: {sorted(fixed)}"
