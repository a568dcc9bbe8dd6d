"""API keys: created by `skyras keys create`, checked by the hub.

A key is `sk_<prefix>_<secret>`; only its SHA-256 is stored (keys are long
random strings, so a fast hash is safe), and the prefix finds the row. The
plaintext is shown once, when the key is created.
"""

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg import AsyncConnection
from pydantic import BaseModel

from skyras.constants import API_KEY_SCOPES


class ApiKey(BaseModel):
    id: UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def validate_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(API_KEY_SCOPES))
    if unknown or not scopes:
        raise ValueError(
            f"unknown scope(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(API_KEY_SCOPES)}"
        )
    return sorted(set(scopes))


async def create_key(
    conn: AsyncConnection[Any], *, name: str, scopes: list[str]
) -> tuple[ApiKey, str]:
    """Store a new key; returns it with the plaintext, which is never stored."""
    scopes = validate_scopes(scopes)
    prefix = secrets.token_hex(4)
    plaintext = f"sk_{prefix}_{secrets.token_urlsafe(32)}"
    cur = await conn.execute(
        """INSERT INTO api_keys (id, name, prefix, key_hash, scopes)
           VALUES (%s, %s, %s, %s, %s) RETURNING *""",
        (uuid4(), name, prefix, _hash(plaintext), scopes),
    )
    row = await cur.fetchone()
    return ApiKey.model_validate(row), plaintext


async def import_key(
    conn: AsyncConnection[Any], *, name: str, scopes: list[str], plaintext: str
) -> bool:
    """Store a key generated elsewhere (the Helm chart's Secrets); False if already there."""
    scopes = validate_scopes(scopes)
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != "sk" or not parts[1] or len(parts[2]) < 16:
        raise ValueError(f"the {name!r} key is not of the form sk_<prefix>_<secret>")
    cur = await conn.execute(
        """INSERT INTO api_keys (id, name, prefix, key_hash, scopes)
           VALUES (%s, %s, %s, %s, %s) ON CONFLICT (prefix) DO NOTHING""",
        (uuid4(), name, parts[1], _hash(plaintext), scopes),
    )
    return cur.rowcount == 1


async def verify_key(conn: AsyncConnection[Any], plaintext: str) -> ApiKey | None:
    """The key's record when `plaintext` is a live key, else None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != "sk":
        return None
    cur = await conn.execute(
        "SELECT * FROM api_keys WHERE prefix = %s AND revoked_at IS NULL", (parts[1],)
    )
    row = await cur.fetchone()
    if row is None or not hmac.compare_digest(row["key_hash"], _hash(plaintext)):
        return None
    await conn.execute("UPDATE api_keys SET last_used_at = now() WHERE id = %s", (row["id"],))
    return ApiKey.model_validate(row)


async def list_keys(conn: AsyncConnection[Any]) -> list[ApiKey]:
    cur = await conn.execute("SELECT * FROM api_keys ORDER BY created_at")
    return [ApiKey.model_validate(row) for row in await cur.fetchall()]


async def revoke_key(conn: AsyncConnection[Any], key: str) -> int:
    """Revoke by name, prefix or id; returns how many keys were revoked."""
    cur = await conn.execute(
        """UPDATE api_keys SET revoked_at = now()
           WHERE revoked_at IS NULL AND (name = %s OR prefix = %s OR id::text = %s)""",
        (key, key, key),
    )
    return cur.rowcount
