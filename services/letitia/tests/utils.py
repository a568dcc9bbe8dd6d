"""Helpers for Letitia's tests: stand-ins from the repository root, database counts."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg

from skyras_letitia.config import LetitiaSettings

REPO = Path(__file__).resolve().parents[3]


def load_standin(name: str) -> ModuleType:
    """A module of `tests/standins/` at the repository root.

    Loaded by path: every service's test folder is also a package named
    `tests`, so `import tests.standins` would find the wrong one.
    """
    module_name = f"skyras_standins_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            module_name, REPO / "tests" / "standins" / f"{name}.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def count(database_url: str, sql: str, *params: Any) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])


def stored_objects(settings: LetitiaSettings) -> list[Path]:
    root = settings.files_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
