"""Import the chart's bootstrap API keys into the hub's api_keys table.

Run by the migration Job after `skyras migrate`, with the hub image (the
`skyras` library is installed there). Each key comes from an environment
variable holding its plaintext (`sk_<prefix>_<secret>`, generated once by the
chart and kept in a Secret); only its SHA-256 is stored, as `skyras keys
create` does. Idempotent: a key whose prefix is already there is left alone,
so re-running on every upgrade changes nothing.

Until the CLI has `skyras keys import` this script does it:
    python import_keys.py operator=registry frontend=read,write admin=admin test=read,write
reads SKYRAS_BOOTSTRAP_KEY_<NAME> (upper case) for each NAME.
"""

import asyncio
import hashlib
import os
import sys
import uuid

from skyras import apikeys
from skyras.db import connect


def parse(arg: str) -> tuple[str, list[str]]:
    name, _, scopes = arg.partition("=")
    return name, apikeys.validate_scopes([s for s in scopes.split(",") if s])


async def import_keys(database_url: str, wanted: list[tuple[str, list[str], str]]) -> None:
    conn = await connect(database_url)
    try:
        for name, scopes, plaintext in wanted:
            parts = plaintext.split("_", 2)
            if len(parts) != 3 or parts[0] != "sk" or not parts[1] or not parts[2]:
                raise SystemExit(f"import_keys: the {name!r} key is not of the form sk_<prefix>_<secret>")
            key_hash = hashlib.sha256(plaintext.encode()).hexdigest()
            cur = await conn.execute(
                """INSERT INTO api_keys (id, name, prefix, key_hash, scopes)
                   VALUES (%s, %s, %s, %s, %s) ON CONFLICT (prefix) DO NOTHING""",
                (uuid.uuid4(), f"helm-{name}", parts[1], key_hash, scopes),
            )
            state = "imported" if cur.rowcount else "already present"
            print(f"key helm-{name} ({','.join(scopes)}): {state}")
        await conn.commit()
    finally:
        await conn.close()


def main(argv: list[str]) -> None:
    wanted = []
    for arg in argv:
        name, scopes = parse(arg)
        plaintext = os.environ.get(f"SKYRAS_BOOTSTRAP_KEY_{name.upper()}", "")
        if not plaintext:
            raise SystemExit(f"import_keys: SKYRAS_BOOTSTRAP_KEY_{name.upper()} is not set")
        wanted.append((name, scopes, plaintext))
    asyncio.run(import_keys(os.environ["SKYRAS_DATABASE_URL"], wanted))


if __name__ == "__main__":
    main(sys.argv[1:])
