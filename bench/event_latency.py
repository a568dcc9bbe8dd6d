"""Event latency (DESIGN.md §9: handled ≤ 5 ms p50 / ≤ 50 ms p99 after the commit that produced it).

Marcus and Letitia run as real processes (each with its outbox relay and
consumer, default settings). One task.created at a time, then this process
polls `processed_events` for Letitia's row about every 0.5 ms (so the
resolution is about half a millisecond), two ways:

- outbox: this process inserts a task and its task.created event
  (`skyras.outbox.add_event`) and commits; the clock starts when COMMIT returns.
  This is the exact measure of the target.
- api: `POST /api/tasks` to Marcus; measured from the moment the 201 arrives
  (the commit happened just before: a slight under-estimate) and from when the
  request was sent (an over-estimate: includes the request itself).

    .venv/bin/python -m bench.event_latency                # 200 events each way
    .venv/bin/python -m bench.event_latency -n 50 --files 20000   # with a library to match against
"""

import argparse
import asyncio
import time
import uuid
from typing import Any

import httpx
import psycopg

from bench._stack import infrastructure, summary_ms, verdict
from skyras import outbox
from skyras.db import connect

HANDLED = """SELECT 1 FROM processed_events p JOIN events e ON e.id = p.event_id
             WHERE p.consumer = 'letitia' AND e.type = 'task.created' AND e.subject = %s"""


def wait_handled(poll: psycopg.Connection[Any], subject: str, timeout: float = 10) -> float:
    """perf_counter() when Letitia's processed_events row for `subject` is first seen."""
    deadline = time.perf_counter() + timeout
    while True:
        if poll.execute(HANDLED, (subject,)).fetchone():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"task.created of {subject} not handled by letitia in {timeout}s")
        time.sleep(0.0005)


async def via_outbox(database_url: str, poll: psycopg.Connection[Any], n: int) -> list[float]:
    conn = await connect(database_url)
    latencies = []
    try:
        for i in range(n):
            task_id = uuid.uuid4()
            cur = await conn.execute(
                """INSERT INTO tasks (id, title) VALUES (%s, %s)
                   RETURNING id, title, description, priority, status, tags""",
                (task_id, f"Bounce stem {i}"),
            )
            row = await cur.fetchone()
            assert row is not None
            task = {**row, "id": str(row["id"])}
            await outbox.add_event(
                conn, type="task.created", source="/agents/marcus", subject=f"tasks/{task_id}",
                data={"task": task},
            )  # fmt: skip
            await conn.commit()
            committed = time.perf_counter()
            latencies.append(wait_handled(poll, f"tasks/{task_id}") - committed)
    finally:
        await conn.close()
    return latencies


def via_api(
    marcus_url: str, poll: psycopg.Connection[Any], n: int
) -> tuple[list[float], list[float]]:
    from_response, from_request = [], []
    with httpx.Client(base_url=marcus_url, timeout=10) as client:
        for i in range(n):
            sent = time.perf_counter()
            response = client.post("/api/tasks", json={"title": f"Print the mix {i}"})
            answered = time.perf_counter()
            response.raise_for_status()
            handled = wait_handled(poll, f"tasks/{response.json()['id']}")
            from_response.append(handled - answered)
            from_request.append(handled - sent)
    return from_response, from_request


def report(name: str, latencies: list[float]) -> tuple[float, float]:
    s = summary_ms(latencies)
    print(
        f"  {name:<34} n={s['n']:<4} p50 {s['p50']:6.2f}  p95 {s['p95']:6.2f}  "
        f"p99 {s['p99']:6.2f}  max {s['max']:6.2f} ms"
    )
    return s["p50"], s["p99"]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.event_latency",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("-n", "--events", type=int, default=200, help="per way (default 200)")
    parser.add_argument(
        "--files", type=int, default=0, help="files in the library first (default 0)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    args = parser.parse_args()

    with infrastructure(keep=args.keep) as infra:
        if args.files:
            from bench.search import load_files

            load_files(infra.database_url, args.files)
        marcus = infra.start("marcus")
        infra.start("letitia")
        with psycopg.connect(infra.database_url, autocommit=True) as poll:
            # Warm up: consumer groups exist, connections are open.
            asyncio.run(via_outbox(infra.database_url, poll, 5))
            outbox_lat = asyncio.run(via_outbox(infra.database_url, poll, args.events))
            api_resp, api_req = via_api(marcus.url, poll, args.events)

    print(f"task.created -> handled by letitia ({args.files} files in the library)")
    p50, p99 = report("outbox: from COMMIT", outbox_lat)
    report("api: from the 201 response", api_resp)
    report("api: from sending the POST", api_req)
    print(f"target ≤ 5 ms p50: {verdict(p50 <= 5)}; ≤ 50 ms p99: {verdict(p99 <= 50)} (outbox)")


if __name__ == "__main__":
    main()
