"""Giorgio's rendering: seconds per variant and the memory it takes (no target in §9).

Renders each variant for a short Latin title, a 200-character title and a
CJK title, in this process (Pillow's work, no HTTP), `--runs` times each, and
prints the median time, the JPEG size, and this process's peak resident
memory before and after (ru_maxrss). The 120 MB idle target of §9 is
measured by bench/idle_memory.py; this shows what a render adds on top.

    .venv/bin/python -m bench.giorgio_render [--runs 3]
"""

import argparse
import resource
import statistics
import time

from skyras_giorgio import artwork, specs
from skyras_giorgio.palettes import PALETTES

TITLES = {
    "short": ("Night Drive", "Aurora Lane"),
    "200 chars": (
        ("The Extraordinarily Long And Winding Road " * 6)[:200],
        "The Night Shift Orchestra",
    ),
    "CJK": ("夜のドライブ　東京の灯りと雨の匂い", "星野 光"),
}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="renders per variant and title (median shown)"
    )
    args = parser.parse_args()
    print(f"peak RSS before rendering: {peak_mb():.0f} MB")
    print(f"{'title':<10} {'variant':<14} {'median s':>9} {'JPEG KB':>8}")
    for label, (title, artist) in TITLES.items():
        for variant in specs.VARIANTS.values():
            times, size = [], 0
            for run in range(args.runs):
                spec = artwork.ArtworkSpec(
                    title, artist, PALETTES["neon"], 1000 + run
                )  # no cache hits
                started = time.perf_counter()
                size = len(artwork.render_variant(spec, variant).jpeg)
                times.append(time.perf_counter() - started)
            print(
                f"{label:<10} {variant.name:<14} {statistics.median(times):>9.2f} {size / 1024:>8.0f}"
            )
    print(f"peak RSS after rendering: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
