"""Helpers for Letitia's tests: database counts, stored objects."""

from pathlib import Path
from typing import Any

import psycopg

from skyras_letitia.config import LetitiaSettings


def count(database_url: str, sql: str, *params: Any) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])


def stored_objects(settings: LetitiaSettings) -> list[Path]:
    root = settings.files_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
