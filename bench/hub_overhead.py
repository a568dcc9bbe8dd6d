"""Hub forwarding overhead (DESIGN.md §9: ≤ 1 ms added at p50; hub throughput ≥ 70 % of direct).

Marcus and the hub run as real uvicorn processes (hub: auth_mode
loopback-open, rate limit set very high, so the limiter's Redis call still
happens); marcus is registered with the hub from its manifest. The same
number of `GET /api/tasks?limit=1` requests go to Marcus directly and
`GET /api/v2/agents/marcus/tasks?limit=1` through the hub, from one httpx
async client at a fixed concurrency, alternating rounds so drift on a shared
machine hits both sides alike.

    .venv/bin/python -m bench.hub_overhead                 # 2,000 requests each way, concurrency 8
    .venv/bin/python -m bench.hub_overhead -n 500 -c 1     # latency without queueing
"""

import argparse
import asyncio
import time

import httpx

from bench._stack import infrastructure, summary_ms, verdict


async def measure(url: str, requests: int, concurrency: int) -> tuple[list[float], float]:
    """Latencies (s) and throughput (req/s) for `requests` GETs at `concurrency`."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        for _ in range(min(50, requests)):  # warm up connections and caches
            (await client.get(url)).raise_for_status()
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, len(latencies) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hub_overhead",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("-n", "--requests", type=int, default=2000, help="per side (default 2000)")
    parser.add_argument("-c", "--concurrency", type=int, default=8, help="in flight (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    parser.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="SKYRAS_RATE_LIMIT_PER_MINUTE=0 on the hub (no Redis call per request)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    args = parser.parse_args()

    with infrastructure(keep=args.keep) as infra:
        marcus = infra.start("marcus")
        hub = infra.start(
            "hub", **({"SKYRAS_RATE_LIMIT_PER_MINUTE": "0"} if args.no_rate_limit else {})
        )
        infra.register(hub, "marcus", marcus)
        direct_url = f"{marcus.url}/api/tasks?limit=1"
        hub_url = f"{hub.url}/api/v2/agents/marcus/tasks?limit=1"
        # One task so the listing returns a row (same bytes both ways).
        httpx.post(f"{marcus.url}/api/tasks", json={"title": "bench"}).raise_for_status()
        assert httpx.get(hub_url).json() == httpx.get(direct_url).json()

        per_round = max(1, args.requests // args.rounds)
        direct: list[float] = []
        through: list[float] = []
        direct_rps: list[float] = []
        hub_rps: list[float] = []
        for _ in range(args.rounds):
            lat, rps = asyncio.run(measure(direct_url, per_round, args.concurrency))
            direct += lat
            direct_rps.append(rps)
            lat, rps = asyncio.run(measure(hub_url, per_round, args.concurrency))
            through += lat
            hub_rps.append(rps)

    d, h = summary_ms(direct), summary_ms(through)
    d_rps, h_rps = sum(direct_rps) / len(direct_rps), sum(hub_rps) / len(hub_rps)
    added = h["p50"] - d["p50"]
    ratio = h_rps / d_rps
    print(f"{len(direct)} requests each way, concurrency {args.concurrency}, {args.rounds} rounds")
    print(f"  {'':<10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    print(f"  {'direct':<10} {d['p50']:>8.2f} {d['p95']:>8.2f} {d['p99']:>8.2f} {d_rps:>8.0f}")
    print(f"  {'via hub':<10} {h['p50']:>8.2f} {h['p95']:>8.2f} {h['p99']:>8.2f} {h_rps:>8.0f}")
    print(f"added latency at p50: {added:.2f} ms (target ≤ 1 ms: {verdict(added <= 1.0)})")
    print(f"throughput hub/direct: {ratio:.0%} (target ≥ 70 %: {verdict(ratio >= 0.70)})")


if __name__ == "__main__":
    main()
