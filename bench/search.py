"""Search over 100,000 files (DESIGN.md §9: p95 ≤ 25 ms).

Loads N deterministic, realistic file rows (COPY; the search trigger fills
each row's tsvector), then times Letitia's Postgres search for a mix of query
kinds, both through `PostgresSearch` in this process (the store's SQL alone)
and through `POST /api/search` on a real Letitia process (HTTP + JSON on top).

    .venv/bin/python -m bench.search               # 100,000 files, 30 runs per query
    .venv/bin/python -m bench.search --files 20000 --runs 10 --explain
"""

import argparse
import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from bench._stack import Infra, infrastructure, summary_ms, verdict
from skyras.db import open_pool
from skyras_letitia.models import SearchRequest
from skyras_letitia.search.postgres import PostgresSearch

TARGET_P95_MS = 25.0

PROJECTS = [
    "night_drive", "summer_haze", "neon_rain", "glass_heart", "low_tide", "paper_moon",
    "velvet_static", "golden_hour", "cold_fire", "echo_park", "silver_lining", "wild_card",
    "blue_monday", "red_shift", "deep_water", "open_road", "last_call", "first_light",
]  # fmt: skip
AUDIO_PARTS = [
    "vocals", "lead_vocals", "backing_vocals", "drums", "bass", "guitar", "keys", "synth",
    "pads", "strings", "brass", "percussion", "fx", "room_mics", "mixdown", "master",
    "stems", "acapella", "instrumental", "click",
]  # fmt: skip
AUDIO_SUFFIX = ["final", "take1", "take2", "take3", "comp", "edit", "rough", "alt", "clean", "raw"]
AUDIO_EXT = ["wav", "wav", "wav", "aif", "flac", "mp3"]
CAMEL = ["VocalsLeadTake", "MixdownFinal", "DrumBusPrint", "BassDI", "KeysReamp", "MasterLoud"]
IMAGE = ["cover_art", "artwork", "press_photo", "back_cover", "lyric_sheet_scan", "banner", "logo"]
DOCUMENT = [
    "contract", "split_sheet", "liner_notes", "press_release", "invoice", "license",
    "session_notes", "tracklist", "lyrics", "budget",
]  # fmt: skip
VIDEO = ["music_video", "teaser", "lyric_video", "behind_the_scenes", "live_session"]
ADJECTIVES = [
    "warm", "breathy", "punchy", "bright", "dark", "wide", "dry", "wet", "airy", "gritty",
    "crisp", "muddy", "lush", "thin", "fat", "saturated", "compressed", "distorted",
]  # fmt: skip
NOUNS = ["take", "comp", "bounce", "print", "mix", "version", "edit", "export", "draft", "scan"]
PEOPLE = ["Ana", "Marcus", "Letitia", "Jo", "Sam", "Priya", "Kenji", "Lou", "Dee", "Tomás"]
TAGS = [
    "final", "draft", "mix", "master", "vocals", "drums", "stems", "artwork", "contract",
    "approved", "needs-review", "archive", "single", "album", "ep", "remix", "live", "demo",
    "label", "press", "reference", "rough", "licensed", "2024", "2025",
]  # fmt: skip


def make_file(rng: random.Random, i: int, now: datetime) -> tuple[Any, ...]:
    project = rng.choice(PROJECTS)
    kind = rng.random()
    title = ""
    if kind < 0.60:
        file_type = "audio"
        part = rng.choice(AUDIO_PARTS)
        roll = rng.random()
        if roll < 0.08:
            filename = f"{rng.choice(CAMEL)}{rng.randint(1, 9)}.{rng.choice(AUDIO_EXT)}"
        elif roll < 0.20:
            filename = f"track_{rng.randint(1, 2000)}_{part}.{rng.choice(AUDIO_EXT)}"
        elif roll < 0.35:
            filename = f"{part}_v{rng.randint(1, 9)}.{rng.choice(AUDIO_EXT)}"
        else:
            filename = (
                f"{project}_{part}_{rng.choice(AUDIO_SUFFIX)}_v{rng.randint(1, 12)}"
                f".{rng.choice(AUDIO_EXT)}"
            )
        size = rng.randint(2_000_000, 400_000_000)
    elif kind < 0.78:
        file_type = "image"
        filename = f"{project}_{rng.choice(IMAGE)}_{rng.randint(1, 40)}.{rng.choice(['png', 'jpg', 'tiff'])}"
        size = rng.randint(100_000, 30_000_000)
        if rng.random() < 0.3:
            title = (
                f"{project.replace('_', ' ').title()} {rng.choice(['cover', 'artwork', 'photo'])}"
            )
    elif kind < 0.93:
        file_type = "document"
        filename = f"{project}_{rng.choice(DOCUMENT)}_{2020 + rng.randint(0, 5)}.{rng.choice(['pdf', 'docx', 'txt'])}"
        size = rng.randint(10_000, 5_000_000)
        if rng.random() < 0.4:
            title = (
                f"{rng.choice(DOCUMENT).replace('_', ' ').title()} — {project.replace('_', ' ')}"
            )
    elif kind < 0.98:
        file_type = "video"
        filename = f"{project}_{rng.choice(VIDEO)}_{rng.choice(['4k', '1080p', 'vertical'])}.mp4"
        size = rng.randint(50_000_000, 2_000_000_000)
    else:
        file_type = "other"
        filename = (
            f"{project}_session_{rng.randint(1, 300)}.{rng.choice(['als', 'logicx', 'ptx', 'zip'])}"
        )
        size = rng.randint(1_000_000, 900_000_000)
    if rng.random() < 0.55:
        description = (
            f"{rng.choice(ADJECTIVES).capitalize()} and {rng.choice(ADJECTIVES)} "
            f"{rng.choice(NOUNS)} by {rng.choice(PEOPLE)} for {project.replace('_', ' ')}"
        )
        if rng.random() < 0.3:
            description += f", {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} #{rng.randint(1, 99)}"
    else:
        description = ""
    tags = sorted(set(rng.sample(TAGS, rng.randint(0, 4))))
    uploaded = now - timedelta(seconds=rng.randint(0, 2 * 365 * 86400))
    uid = uuid.UUID(int=rng.getrandbits(128), version=4)
    return (uid, filename, file_type, size, tags, title, description, uploaded, uploaded)


def load_files(database_url: str, count: int, seed: int = 2025) -> float:
    """COPY `count` rows into files (the trigger builds each search vector); returns seconds."""
    rng = random.Random(seed)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    started = time.perf_counter()
    with psycopg.connect(database_url) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY files (id, filename, file_type, file_size, tags, title, description,"
                " uploaded_at, updated_at) FROM STDIN"
            ) as copy,
        ):
            # Oldest first: rows reach the table in upload order, as they do in use.
            rows = sorted((make_file(rng, i, now) for i in range(count)), key=lambda r: r[7])
            for row in rows:
                copy.write_row(row)
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE files")
    return time.perf_counter() - started


# (kind, request body); each kind's variants are cycled through.
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("exact word (common)", {"query": "vocals"}),
    ("exact word (common)", {"query": "mixdown"}),
    ("exact word (common)", {"query": "master"}),
    ("exact words (phrase-ish)", {"query": "night drive vocals"}),
    ("exact words (phrase-ish)", {"query": "golden hour contract"}),
    ("identifier", {"query": "track_500"}),
    ("identifier", {"query": "night_drive_vocals_final_v2.wav"}),
    ("misspelled filename", {"query": "mixdwn"}),
    ("misspelled filename", {"query": "vocls"}),
    ("misspelled filename", {"query": "contrct"}),
    ("description word", {"query": "breathy"}),
    ("description word", {"query": "gritty"}),
    ("tag filter + query", {"query": "vocals", "tags": ["final"]}),
    ("tag filter + query", {"query": "cover", "tags": ["artwork", "approved"]}),
    ("type+date filter + query", {"query": "drums", "file_type": "audio",
                                  "uploaded_after": "2025-01-01T00:00:00Z"}),
    ("no match", {"query": "zzqxvw"}),
    ("empty query", {"query": ""}),
    ("empty query + filter", {"query": "", "file_type": "video"}),
    ("empty query + filter", {"query": "", "tags": ["contract"]}),
]  # fmt: skip


async def run_direct(database_url: str, runs: int) -> dict[str, list[float]]:
    pool = await open_pool(database_url, min_size=1, max_size=2, name="bench-search")
    await pool.wait()
    backend = PostgresSearch(pool)
    timings: dict[str, list[float]] = {}
    try:
        for _, body in QUERIES:  # warm up caches and plans
            await backend.search(SearchRequest.model_validate(body))
        for _ in range(runs):
            for kind, body in QUERIES:
                request = SearchRequest.model_validate(body)
                started = time.perf_counter()
                await backend.search(request)
                timings.setdefault(kind, []).append(time.perf_counter() - started)
    finally:
        await pool.close()
    return timings


async def run_http(url: str, runs: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    timings: dict[str, list[float]] = {}
    totals: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for _, body in QUERIES:
            (await client.post("/api/search", json=body)).raise_for_status()
        for _ in range(runs):
            for kind, body in QUERIES:
                started = time.perf_counter()
                response = await client.post("/api/search", json=body)
                timings.setdefault(kind, []).append(time.perf_counter() - started)
                response.raise_for_status()
                data = response.json()
                totals[str(body)] = data["total"]
                totals[str(body) + " items"] = len(data["items"])
    return timings, totals


def print_table(title: str, timings: dict[str, list[float]]) -> float:
    print(f"\n{title}")
    print(f"  {'query kind':<28} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for kind, values in timings.items():
        s = summary_ms(values)
        worst = max(worst, s["p95"])
        print(f"  {kind:<28} {s['n']:>4} {s['p50']:>8.2f} {s['p95']:>8.2f} {s['max']:>8.2f}")
    everything = [v for values in timings.values() for v in values]
    s = summary_ms(everything)
    print(f"  {'ALL':<28} {s['n']:>4} {s['p50']:>8.2f} {s['p95']:>8.2f} {s['max']:>8.2f}")
    print(
        f"  target p95 ≤ {TARGET_P95_MS:g} ms: overall {verdict(s['p95'] <= TARGET_P95_MS)}; "
        f"worst kind p95 {worst:.1f} ms ({verdict(worst <= TARGET_P95_MS)})"
    )
    return s["p95"]


def explain(database_url: str) -> None:
    """EXPLAIN ANALYZE of the statements search_files runs, captured with auto_explain."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("LOAD 'auto_explain'")
        conn.execute("SET auto_explain.log_min_duration = 0")
        conn.execute("SET auto_explain.log_analyze = on")
        conn.execute("SET auto_explain.log_nested_statements = on")
        conn.execute("SET client_min_messages = log")
        conn.execute("SET auto_explain.log_level = notice")
        notices: list[str] = []
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))

        async def one(body: dict[str, Any]) -> None:
            from psycopg import AsyncConnection
            from psycopg.rows import dict_row

            from skyras_letitia import store

            request = SearchRequest.model_validate(body)
            async with await AsyncConnection.connect(database_url, row_factory=dict_row) as ac:
                await ac.execute("LOAD 'auto_explain'")
                await ac.execute("SET auto_explain.log_min_duration = 0")
                await ac.execute("SET auto_explain.log_analyze = on")
                await ac.execute("SET auto_explain.log_level = notice")
                ac.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
                await store.search_files(
                    conn=ac, query=request.query, limit=request.limit, file_type=request.file_type,
                    tags=request.tags, uploaded_after=request.uploaded_after,
                    uploaded_before=request.uploaded_before,
                )  # fmt: skip

        for body in ({"query": "track_500"}, {"query": "mixdwn"}, {"query": "vocals"}):
            notices.clear()
            asyncio.run(one(body))
            print(f"\n--- EXPLAIN ANALYZE for {body} ---")
            for message in notices:
                if "Query Text" in message or "->" in message or "Plan" in message:
                    print(message)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1],
    )  # fmt: skip
    parser.add_argument("--files", type=int, default=100_000, help="rows to load (default 100000)")
    parser.add_argument(
        "--runs", type=int, default=30, help="timed runs of each query (default 30)"
    )
    parser.add_argument(
        "--no-http", action="store_true", help="skip the HTTP (Letitia process) part"
    )
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of 3 queries")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, data)")
    args = parser.parse_args()

    with infrastructure(keep=args.keep) as infra:
        seconds = load_files(infra.database_url, args.files)
        print(f"loaded {args.files:,} files in {seconds:.1f} s (COPY + trigger + VACUUM ANALYZE)")
        if args.explain:
            explain(infra.database_url)
        direct = asyncio.run(run_direct(infra.database_url, args.runs))
        print_table("PostgresSearch.search in-process (SQL + row mapping), ms", direct)
        if not args.no_http:
            http(infra, args.runs)


def http(infra: Infra, runs: int) -> None:
    letitia = infra.start("letitia")
    timings, totals = asyncio.run(run_http(letitia.url, runs))
    print_table("POST /api/search on a Letitia process (HTTP/JSON included), ms", timings)
    print("\nresult sizes (total reported / items returned):")
    for _, body in QUERIES:
        print(f"  {body!s:<70} total={totals[str(body)]:>6} items={totals[str(body) + ' items']}")


if __name__ == "__main__":
    main()
