"""A large upload streams through the hub (a real process) without being held in its memory."""

import asyncio
import hashlib
from pathlib import Path

from skyras.testing import ServedApp, ServiceProcess

from .utils.agents import agent_app
from .utils.hub import register, registration

CHUNK = 1024 * 1024
CHUNKS = 200  # 200 MB


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def test_large_upload_streams_through_the_hub_with_bounded_memory(
    service_env: dict[str, str], registry_key: str, tmp_path: Path
) -> None:
    env = {**service_env, "SKYRAS_AUTH_MODE": "loopback-open", "SKYRAS_LOG_LEVEL": "WARNING"}
    hub = ServiceProcess("skyras_hub.main:app", env, log=tmp_path / "hub.log")
    await asyncio.to_thread(hub.start)
    try:
        assert hub.proc is not None
        async with ServedApp(agent_app("letitia")) as agent, hub_client(hub) as client:
            await register(hub.url, registry_key, "letitia", registration(agent.url), expect=201)
            # Warm up (imports, pools) before taking the baseline.
            assert (await client.get("/api/v2/agents/letitia/tasks")).status_code == 200
            baseline = peak_rss_mb(hub.proc.pid)

            digest = hashlib.sha256()
            block = bytes(range(256)) * (CHUNK // 256)

            async def body():  # type: ignore[no-untyped-def]
                for i in range(CHUNKS):
                    chunk = block[i % 256 :] + block[: i % 256]
                    digest.update(chunk)
                    yield chunk

            response = await client.post(
                "/api/v2/agents/letitia/sink",
                content=body(),
                headers={"content-length": str(CHUNK * CHUNKS)},
            )
            peak = peak_rss_mb(hub.proc.pid)
        assert response.status_code == 200, response.text
        assert response.json() == {"size": CHUNK * CHUNKS, "sha256": digest.hexdigest()}
        print(f"hub peak RSS {peak:.0f} MB, baseline {baseline:.0f} MB")
        assert peak - baseline < 40, (
            f"hub peak RSS grew {peak - baseline:.0f} MB (from {baseline:.0f})"
        )
    finally:
        await asyncio.to_thread(hub.stop)


def hub_client(hub: ServiceProcess):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.AsyncClient(base_url=hub.url, timeout=60)
