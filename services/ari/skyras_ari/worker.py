"""The bounded worker pool that runs mastering jobs (a `create_app` worker).

`job_workers` starts `job_workers` loops in this process; each claims one job
at a time (`store.claim_job`: FOR UPDATE SKIP LOCKED, so processes share the
queue without running a job twice) and runs it under a lease. While a job
runs, a heartbeat renews the lease, writes the progress ffmpeg reports, emits
`audio.mastering_progress`, and watches for a cancel request; on one it
cancels the job's task, which kills ffmpeg, then deletes whatever the job had
stored in Letitia. A process killed mid-job leaves its lease to lapse: any
worker then reclaims the job and runs it again; outputs an earlier attempt
stored are found by their tags and not stored twice.

Events: `audio.mastering_started` (each attempt), `audio.mastering_progress`,
and exactly one of `audio.mastered`, `audio.failed`, `audio.mastering_cancelled`,
each in the transaction that finishes the job.
"""

import asyncio
import contextlib
import json
import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI

from skyras.backoff import Backoff
from skyras.consumer import default_consumer_name
from skyras.db import Pool
from skyras.errors import ApiError
from skyras_ari import store
from skyras_ari.audio.analysis import Analysis, analyse, require_loud_enough
from skyras_ari.audio.mastering import OUTPUT_FORMATS, Master, master, waveform_png
from skyras_ari.config import AriSettings
from skyras_ari.jobs import add_audio_event, target_from_row
from skyras_ari.letitia import JOB_TAG, OUTPUT_TAG, SOURCE_TAG, LetitiaClient, LetitiaUnavailable

# A job that failed for a passing reason waits 2, 4, 8... up to 60 s before its next run.
RELEASE_BACKOFF = Backoff(2.0, 60.0)

log = logging.getLogger("skyras_ari.worker")

# Shares of a job's progress: download and analysis, the targets, the report.
ANALYSIS_SHARE, REPORT_SHARE = 0.1, 0.05
# A progress event at least every this much progress (the row gets every tick).
PROGRESS_EVENT_STEP = 0.05


@dataclass
class RunState:
    """What the job's task and its heartbeat share."""

    progress: float = 0.0
    stage: str = "starting"
    uploading: asyncio.Future[Any] | None = None
    stored_ids: list[str] = field(default_factory=list)


class JobLost(Exception):
    """The lease lapsed and another worker owns the job now."""


class JobRunner:
    def __init__(
        self, *, pool: Pool, letitia: LetitiaClient, settings: AriSettings, name: str | None = None
    ) -> None:
        self.pool = pool
        self.letitia = letitia
        self.settings = settings
        # Unique per app, even for two apps in one process (tests): leases are held by name.
        self.name = name or f"{default_consumer_name()}-{uuid.uuid4().hex[:6]}"

    # ----- the pool ------------------------------------------------------------------

    async def run(self) -> None:
        """`job_workers` loops until cancelled (the app shutting down)."""
        loops = [
            asyncio.create_task(self._loop(f"{self.name}/{i}"), name=f"ari-job-worker-{i}")
            for i in range(self.settings.job_workers)
        ]
        try:
            await asyncio.gather(*loops)
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def _loop(self, worker: str) -> None:
        while True:
            try:
                ran = await self.run_one(worker)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker %s: unexpected error; going on", worker)
                ran = False
            if not ran:
                await asyncio.sleep(self.settings.job_poll_seconds)

    async def run_one(self, worker: str) -> bool:
        """Claim and run one job; False when there was none to claim."""
        async with self.pool.connection() as conn, conn.transaction():
            job = await store.claim_job(
                conn=conn, worker=worker, lease_seconds=self.settings.job_lease_seconds
            )
            if job is None:
                return False
            if job["attempts"] <= self.settings.job_max_attempts and not job["cancel_requested"]:
                await add_audio_event(
                    conn, "audio.mastering_started", file_id=job["source_file_id"],
                    data={"job_id": str(job["id"]), "filename": job["source_filename"],
                          "attempt": job["attempts"], "targets": job["targets"]},
                    correlation_id=job["correlation_id"],
                )  # fmt: skip
        if job["attempts"] > self.settings.job_max_attempts:
            error = {
                "code": "too_many_attempts",
                "message": f"The job was started {job['attempts'] - 1} times and never finished",
            }
            await self._fail(job, worker, error)
            return True
        await self._supervise(job, worker)
        return True

    # ----- one job ---------------------------------------------------------------------

    async def _supervise(self, job: dict[str, Any], worker: str) -> None:
        state = RunState(progress=float(job["progress"]))
        task = asyncio.create_task(self._work(job, worker, state))
        reported = state.progress
        cancel = False
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=self.settings.job_poll_seconds)
                async with self.pool.connection() as conn, conn.transaction():
                    flag = await store.renew_lease(
                        conn=conn, job_id=job["id"], worker=worker,
                        lease_seconds=self.settings.job_lease_seconds, progress=state.progress,
                    )  # fmt: skip
                    if flag is not None and state.progress - reported >= PROGRESS_EVENT_STEP:
                        reported = state.progress
                        await add_audio_event(
                            conn, "audio.mastering_progress", file_id=job["source_file_id"],
                            data={"job_id": str(job["id"]), "progress": round(reported, 3),
                                  "percent": round(reported * 100), "stage": state.stage},
                            correlation_id=job["correlation_id"],
                        )  # fmt: skip
                if flag is None:
                    raise JobLost
                if flag:
                    cancel = True
                    break
        except JobLost:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            return
        except asyncio.CancelledError:
            # Shutting down (SIGTERM, a rolling update): stop ffmpeg and hand the job
            # straight back, so the next worker need not wait for the lease to lapse.
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            with contextlib.suppress(Exception):
                async with self.pool.connection() as conn:
                    await store.release_job(conn=conn, job_id=job["id"], worker=worker,
                                            delay_seconds=0)  # fmt: skip
            raise
        if cancel:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            await self._take_back(job, state)
            await self._finish(job, worker, "cancelled", "audio.mastering_cancelled", {})
            return
        try:
            report = task.result()
        except JobLost:
            return
        except ApiError as exc:
            if isinstance(exc, LetitiaUnavailable):
                await self._release(job, worker, exc)
                return
            await self._take_back(job, state)
            await self._fail(job, worker, {"code": exc.code, "message": exc.message,
                                           "details": exc.details})  # fmt: skip
            return
        except Exception as exc:
            log.exception("job %s failed", job["id"])
            await self._release(job, worker, exc)
            return
        await self._finish(job, worker, "completed", "audio.mastered", report)

    async def _work(self, job: dict[str, Any], worker: str, state: RunState) -> dict[str, Any]:
        work_dir = self.settings.jobs_dir / str(job["id"])
        await anyio.Path(work_dir).mkdir(parents=True, exist_ok=True)
        try:
            return await self._master_all(job, worker, state, work_dir)
        finally:
            await anyio.to_thread.run_sync(lambda: shutil.rmtree(work_dir, ignore_errors=True))

    async def _master_all(
        self, job: dict[str, Any], worker: str, state: RunState, work_dir: Path
    ) -> dict[str, Any]:
        s = self.settings
        file_id = job["source_file_id"]
        record = await self.letitia.get_file(file_id)
        name = record["filename"]
        source_path = work_dir / f"source{Path(name).suffix.lower()}"
        state.stage = "downloading"
        await self.letitia.download(file_id, source_path, max_bytes=s.max_source_bytes)
        state.stage, state.progress = "analysing", max(state.progress, 0.03)
        source = await analyse(s.ffmpeg, s.ffprobe, str(source_path), name=name)
        require_loud_enough(source, name)
        await self._save(job, worker, analysis=source.to_json())
        state.progress = max(state.progress, ANALYSIS_SHARE)

        results: dict[str, Any] = dict(job["results"] or {})
        targets = [target_from_row(t) for t in job["targets"]]
        share = (1 - ANALYSIS_SHARE - REPORT_SHARE) / len(targets)
        for i, (key, spec) in enumerate(targets):
            if key in results:
                continue  # an earlier attempt finished this one
            target = spec.resolve(key=key, source_channels=source.channels,
                                  source_rate=source.sample_rate)  # fmt: skip
            start = ANALYSIS_SHARE + i * share
            state.stage = f"mastering {key}"

            def on_progress(fraction: float, start: float = start) -> None:
                state.progress = max(state.progress, start + share * fraction)

            fmt = OUTPUT_FORMATS[target.format]
            out = work_dir / f"{key}.{fmt.extension}"
            made = await master(
                ffmpeg=s.ffmpeg, ffprobe=s.ffprobe, source_path=source_path, source=source,
                target=target, out_path=out, work_dir=work_dir, on_progress=on_progress,
            )  # fmt: skip
            png = work_dir / f"{key}.png"
            await waveform_png(s.ffmpeg, out, png)
            result = await self._store_master(job, state, name, made, png)
            await self._save(job, worker, result=(key, result))
            results[key] = result

        state.stage = "report"
        report = _report(job, name, source, [results[k] for k, _ in targets])
        report_path = work_dir / "report.json"
        await anyio.Path(report_path).write_text(json.dumps(report, indent=2))
        stem = Path(name).stem
        stored = await self._store_once(
            job, state, "report", report_path, filename=f"{stem}.loudness-report.json",
            content_type="application/json", tags=["loudness-report"],
            title=f"Loudness report of {name}",
        )  # fmt: skip
        report["report_file_id"] = stored["id"]
        await self._save(job, worker, result=("report", {"file_id": stored["id"]}))
        return report

    async def _store_master(
        self, job: dict[str, Any], state: RunState, name: str, made: Master, png: Path
    ) -> dict[str, Any]:
        t, m = made.target, made.measured
        fmt = OUTPUT_FORMATS[t.format]
        stem = Path(name).stem
        label = t.preset or "custom"
        master_file = await self._store_once(
            job, state, t.key, made.path, filename=f"{stem}.master-{t.key}.{fmt.extension}",
            content_type=fmt.content_type,
            tags=["master", label, f"lufs:{m.integrated_lufs:.1f}", f"dbtp:{m.true_peak_dbtp:.1f}"],
            title=f"{name} mastered for {label}",
            description=(f"{m.integrated_lufs:.1f} LUFS integrated, {m.true_peak_dbtp:.1f} dBTP "
                         f"true peak (target {t.integrated_lufs:g} LUFS, ceiling "
                         f"{t.true_peak_dbtp:g} dBTP), {t.sample_rate} Hz, {t.channels} ch"),
        )  # fmt: skip
        waveform = await self._store_once(
            job, state, f"{t.key}-waveform", png, filename=f"{stem}.master-{t.key}.png",
            content_type="image/png", tags=["waveform", label],
            title=f"Waveform of {name} mastered for {label}",
        )  # fmt: skip
        return {
            "key": t.key,
            "preset": t.preset,
            "file_id": master_file["id"],
            "filename": master_file["filename"],
            "waveform_file_id": waveform["id"],
            "target": t.to_json(),
            "measured": m.to_json(),
            "normalization_type": made.normalization_type,
            "trim_db": made.trim_db,
            "notes": made.notes,
        }

    async def _store_once(
        self, job: dict[str, Any], state: RunState, output: str, path: Path, *,
        filename: str, content_type: str, tags: list[str], title: str = "", description: str = "",
    ) -> dict[str, Any]:  # fmt: skip
        """Upload an output unless an earlier attempt of this job already did."""
        job_tag = JOB_TAG.format(job_id=job["id"])
        output_tag = OUTPUT_TAG.format(name=output)
        existing = await self.letitia.find_by_tags([job_tag, output_tag])
        if existing:
            return existing[0]
        all_tags = [*tags, SOURCE_TAG.format(file_id=job["source_file_id"]), job_tag, output_tag]
        # Shielded: a cancel waits for an upload in flight to land, then deletes it,
        # instead of cutting it off at a point where Letitia may or may not keep it.
        state.uploading = asyncio.ensure_future(
            self.letitia.upload(path, filename=filename, content_type=content_type, tags=all_tags,
                                title=title, description=description)
        )  # fmt: skip
        record: dict[str, Any] = await asyncio.shield(state.uploading)
        state.stored_ids.append(record["id"])
        return record

    # ----- endings -------------------------------------------------------------------

    async def _save(self, job: dict[str, Any], worker: str, **step: Any) -> None:
        async with self.pool.connection() as conn:
            if not await store.save_step(conn=conn, job_id=job["id"], worker=worker, **step):
                raise JobLost

    async def _take_back(self, job: dict[str, Any], state: RunState) -> None:
        """Delete every file this job stored in Letitia (cancelled or failed: nothing partial)."""
        if state.uploading is not None:
            with contextlib.suppress(Exception):
                await state.uploading
        deadline = time.monotonic() + 30
        while True:
            try:
                for item in await self.letitia.find_by_tags([JOB_TAG.format(job_id=job["id"])]):
                    await self.letitia.delete(item["id"])
                return
            except LetitiaUnavailable as exc:
                if time.monotonic() > deadline:
                    log.error("job %s: could not take back its files: %s", job["id"], exc)
                    return
                await asyncio.sleep(1)

    async def _finish(
        self, job: dict[str, Any], worker: str, status: str, event_type: str,
        data: dict[str, Any], error: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        async with self.pool.connection() as conn, conn.transaction():
            finished = await store.finish_job(
                conn=conn, job_id=job["id"], worker=worker, status=status, error=error
            )
            if finished is None:
                return  # reclaimed by another worker meanwhile: theirs to finish
            await add_audio_event(
                conn, event_type, file_id=job["source_file_id"],
                data={"job_id": str(job["id"]), "filename": job["source_filename"], **data},
                correlation_id=job["correlation_id"],
            )  # fmt: skip
        log.info("job %s %s", job["id"], status)

    async def _fail(self, job: dict[str, Any], worker: str, error: dict[str, Any]) -> None:
        await self._finish(job, worker, "failed", "audio.failed", {"error": error}, error)

    async def _release(self, job: dict[str, Any], worker: str, exc: Exception) -> None:
        """A passing failure (Letitia down, an unexpected error): run it again later."""
        log.warning("job %s attempt %s did not finish: %s", job["id"], job["attempts"], exc)
        delay = RELEASE_BACKOFF.delay(job["attempts"])
        async with self.pool.connection() as conn:
            await store.release_job(conn=conn, job_id=job["id"], worker=worker, delay_seconds=delay)


def _report(
    job: dict[str, Any], name: str, source: Analysis, masters: list[dict[str, Any]]
) -> dict[str, Any]:
    """The loudness report stored beside the masters (and carried by audio.mastered)."""
    return {
        "job_id": str(job["id"]),
        "source": {"file_id": str(job["source_file_id"]), "filename": name, **source.to_json()},
        "masters": masters,
        "meter": "ITU-R BS.1770-4 / EBU R 128 (ffmpeg ebur128), true peak 4x oversampled",
    }


async def run_job_workers(app: FastAPI) -> None:
    """The pool as a `create_app` worker."""
    runner = JobRunner(pool=app.state.pool, letitia=app.state.letitia, settings=app.state.settings)
    await runner.run()
