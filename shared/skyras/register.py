"""Register agents with the hub from their manifests (`skyras up`, `skyras register`).

The caller can reach the database, so it makes a `registry` key for the run
(revoking the last one of that name) instead of being handed one.
"""

from collections.abc import Callable, Iterable

import httpx

from skyras import apikeys
from skyras.db import connect
from skyras.manifests import AgentManifest


class RegistrationError(RuntimeError):
    """The hub refused a registration, or could not be reached; the message says which."""


async def make_registry_key(database_url: str, name: str) -> str:
    """A fresh `registry` key named `name`; the previous key of that name is revoked."""
    conn = await connect(database_url)
    try:
        await apikeys.revoke_key(conn, name)
        _, plaintext = await apikeys.create_key(conn, name=name, scopes=["registry"])
        await conn.commit()
        return plaintext
    finally:
        await conn.close()


def register_manifests(
    hub_url: str,
    token: str,
    manifests: Iterable[AgentManifest],
    endpoint: Callable[[AgentManifest], str],
    report: Callable[[str], None],
) -> None:
    """PUT each manifest's registration to the hub, the agent reachable at `endpoint(manifest)`."""
    with httpx.Client(base_url=hub_url, timeout=10) as client:
        for manifest in manifests:
            try:
                response = client.put(
                    f"/api/v2/registry/agents/{manifest.name}",
                    json=manifest.registration_body(endpoint(manifest)),
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as exc:
                raise RegistrationError(f"cannot reach the hub at {hub_url}: {exc}") from exc
            if response.status_code >= 400:
                raise RegistrationError(
                    f"the hub refused to register {manifest.name} "
                    f"({response.status_code}): {response.text[:300]}"
                )
            report(f"registered {manifest.name}: {len(manifest.spec.routes)} routes")
