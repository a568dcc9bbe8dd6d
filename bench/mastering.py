"""Mastering speed and accuracy (DESIGN.md §9: a 5-minute stereo 48 kHz WAV mastered at
least 20x faster than real time; integrated loudness within ±0.5 LU of the target and
true peak at or below the ceiling + 0.1 dB, checked with pyloudnorm and ffmpeg's meter).

1. The signal work alone (`skyras_ari.audio`, in this process): the source is
   analysed once, then mastered to each preset (WAV 24-bit, 48 kHz, stereo).
   Speed is the audio's length over the wall time of analysis + master; peak
   memory is the largest ffmpeg resident set seen (polled from /proc) and this
   process's maxrss before the checks (which decode whole files into numpy).
2. With `--service`: the same file through Ari and Letitia as real processes
   (embedded Postgres and Redis): upload, `POST /api/master` with every preset
   in one job, until the job completes (download, analysis, masters,
   waveforms, report and uploads). Peak memory is Ari's VmHWM and the largest
   ffmpeg resident set seen while the job ran.
Each master is downloaded and measured with pyloudnorm and ffmpeg's ebur128
true-peak meter.

    .venv/bin/python -m bench.mastering
    .venv/bin/python -m bench.mastering --seconds 300 --service
"""

import argparse
import asyncio
import os
import resource
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench._stack import infrastructure, verdict
from services.ari.tests.media import ffmpeg_true_peak, pyloudnorm_lufs
from skyras_ari.audio.analysis import analyse
from skyras_ari.audio.mastering import Target, master
from skyras_ari.presets import PRESETS

TARGET_SPEED = 20.0
LU_TOLERANCE, TP_TOLERANCE = 0.5, 0.1


def make_mix(path: Path, seconds: int) -> None:
    """A stereo 48 kHz 24-bit 'mix': pink noise with a slow swell, a sine bed, a loud section."""
    third = seconds // 3
    subprocess.run(
        ["sox", "-n", "-r", "48000", "-c", "2", "-b", "24", str(path),
         "synth", str(third), "pinknoise", "vol", "0.08", "tremolo", "0.2", "40",
         ":", "synth", str(third), "pinknoise", "sine", "110", "vol", "0.5", "tremolo", "2", "30",
         ":", "synth", str(seconds - 2 * third), "pinknoise", "vol", "0.25"],
        check=True,
    )  # fmt: skip


def check(path: Path, target: Target) -> tuple[float, float, bool]:
    lufs, peak = pyloudnorm_lufs(path), ffmpeg_true_peak(path)
    ok = abs(lufs - target.integrated_lufs) <= LU_TOLERANCE and (
        peak <= target.true_peak_dbtp + TP_TOLERANCE
    )
    return lufs, peak, ok


def print_row(name: str, target: Target, lufs: float, peak: float, ok: bool, extra: str) -> None:
    print(
        f"  {name:<12} target {target.integrated_lufs:6.1f} LUFS / {target.true_peak_dbtp:4.1f} dBTP"
        f"   pyloudnorm {lufs:6.2f} LUFS ({lufs - target.integrated_lufs:+.2f} LU)"
        f"   true peak {peak:5.2f} dBTP   {extra}  {verdict(ok)}"
    )


async def in_process(source: Path, seconds: int, work: Path) -> None:
    print(f"1. signal work in this process ({seconds} s stereo 48 kHz WAV, each preset):")
    stop, seen = threading.Event(), [0.0]
    poller = threading.Thread(target=peak_rss_of_ffmpeg, args=(stop, seen), daemon=True)
    poller.start()
    t0 = time.perf_counter()
    analysis = await analyse("ffmpeg", "ffprobe", str(source))
    analysed = time.perf_counter() - t0
    print(f"  analysis: {analysed:.2f} s ({seconds / analysed:.0f}x real time): "
          f"{analysis.integrated_lufs} LUFS, LRA {analysis.loudness_range_lu} LU, "
          f"true peak {analysis.true_peak_dbtp} dBTP")  # fmt: skip
    made = []
    for preset in PRESETS.values():
        target = Target(key=preset.name, preset=preset.name, integrated_lufs=preset.integrated_lufs,
                        true_peak_dbtp=preset.true_peak_dbtp, format="wav24", sample_rate=48000,
                        channels=2)  # fmt: skip
        out = work / f"{preset.name}.wav"
        t0 = time.perf_counter()
        result = await master(ffmpeg="ffmpeg", ffprobe="ffprobe", source_path=source,
                              source=analysis, target=target, out_path=out, work_dir=work)  # fmt: skip
        made.append((result, time.perf_counter() - t0 + analysed))
    stop.set()
    poller.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the checks below
    speeds = []
    for result, elapsed in made:
        speed = seconds / elapsed
        speeds.append(speed)
        lufs, peak, ok = check(result.path, result.target)
        print_row(result.target.key, result.target, lufs, peak, ok,
                  f"{elapsed:5.2f} s = {speed:5.1f}x real time ({result.normalization_type})")  # fmt: skip
    slowest = min(speeds)
    print(f"  speed (analysis + master, each preset alone): slowest {slowest:.1f}x, "
          f"median {sorted(speeds)[len(speeds) // 2]:.1f}x real time "
          f"(target ≥ {TARGET_SPEED:g}x)  {verdict(slowest >= TARGET_SPEED)}")  # fmt: skip
    print(f"  peak memory: largest ffmpeg {max(seen):.0f} MB, this process {own:.0f} MB")


def peak_rss_of_ffmpeg(stop: threading.Event, seen: list[float]) -> None:
    """Poll /proc for ffmpeg processes; keep the largest resident set (MB)."""
    while not stop.is_set():
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if not Path(f"/proc/{entry}/comm").read_text().startswith("ffmpeg"):
                    continue
                for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        seen.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        time.sleep(0.05)


def through_service(source: Path, seconds: int, work: Path) -> None:
    print("2. through Ari and Letitia (processes, one job with every preset):")
    with infrastructure() as infra:
        letitia = infra.start("letitia")
        ari = infra.start("ari", SKYRAS_LETITIA_URL=letitia.url, SKYRAS_JOB_WORKERS="1")
        with httpx.Client(timeout=120) as http:
            with source.open("rb") as body:
                record = http.post(f"{letitia.url}/api/files",
                                   files={"file": ("album_mix.wav", body, "audio/wav")}).json()  # fmt: skip
            stop, seen = threading.Event(), [0.0]
            poller = threading.Thread(target=peak_rss_of_ffmpeg, args=(stop, seen), daemon=True)
            poller.start()
            t0 = time.perf_counter()
            job = http.post(f"{ari.url}/api/master",
                            json={"file_id": record["id"], "presets": list(PRESETS)}).json()  # fmt: skip
            while job["status"] not in ("completed", "failed", "cancelled"):
                time.sleep(0.1)
                job = http.get(f"{ari.url}/api/jobs/{job['id']}").json()
            elapsed = time.perf_counter() - t0
            stop.set()
            poller.join()
            assert job["status"] == "completed", job["error"]
            assert ari.proc is not None
            hwm = next(int(line.split()[1]) / 1024
                       for line in Path(f"/proc/{ari.proc.pid}/status").read_text().splitlines()
                       if line.startswith("VmHWM:"))  # fmt: skip
            per_master = elapsed / len(PRESETS)
            print(f"  job of {len(PRESETS)} masters: {elapsed:.1f} s, {per_master:.2f} s per "
                  f"master = {seconds / per_master:.1f}x real time per master, "
                  f"{seconds * len(PRESETS) / elapsed:.1f}x for the whole job  "
                  f"{verdict(seconds / per_master >= TARGET_SPEED)}")  # fmt: skip
            print(f"  peak memory: Ari {hwm:.0f} MB (VmHWM), largest ffmpeg {max(seen):.0f} MB")
            for key, result in job["results"].items():
                if key == "report" or "target" not in result:
                    continue
                t = result["target"]
                target = Target(key=key, preset=t["preset"], integrated_lufs=t["integrated_lufs"],
                                true_peak_dbtp=t["true_peak_dbtp"], format=t["format"],
                                sample_rate=t["sample_rate"], channels=t["channels"])  # fmt: skip
                path = work / f"service-{key}.wav"
                path.write_bytes(
                    http.get(f"{letitia.url}/api/files/{result['file_id']}/content").content
                )
                lufs, peak, ok = check(path, target)
                print_row(
                    t["preset"],
                    target,
                    lufs,
                    peak,
                    ok,
                    f"Ari read {result['measured']['integrated_lufs']} LUFS",
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=300, help="length of the mix (default 300)")
    parser.add_argument("--service", action="store_true", help="also run it through Ari + Letitia")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="skyras-bench-ari-") as tmp:
        work = Path(tmp)
        source = work / "album_mix.wav"
        make_mix(source, args.seconds)
        print(f"source: {source.stat().st_size / 1e6:.0f} MB, {os.cpu_count()} cores")
        asyncio.run(in_process(source, args.seconds, work))
        if args.service:
            through_service(source, args.seconds, work)


if __name__ == "__main__":
    main()
