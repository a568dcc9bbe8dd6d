"""Mastering jobs: asked for (API, chat, a tagged file), listed, cancelled.

Who calls it: the routes, the chat and the event handlers. A job asked for
through the API or chat is checked before anything is written: the source
must exist in Letitia, hold bytes, and be audio in a format Ari reads (ffprobe
reads its header over HTTP, with ranges; no download). Checks that need the
whole signal (silence) run in the job, which then fails with the same error
shape and stores nothing. The worker pool (`worker.py`) runs what is queued.
"""

import shutil
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio

from skyras import outbox
from skyras.db import Pool
from skyras.errors import ApiError
from skyras_ari import store
from skyras_ari.audio import ffmpeg as ff
from skyras_ari.audio.analysis import SILENCE_LUFS, AudioInputError, analyse, audio_stream
from skyras_ari.config import AriSettings
from skyras_ari.letitia import LetitiaClient, is_ari_output
from skyras_ari.models import MasterCreate, TargetIn, target_keys

SOURCE = "/agents/ari"


def stored_targets(targets: list[TargetIn]) -> list[dict[str, Any]]:
    """Targets as the job row keeps them: the request, plus each one's key."""
    return [
        {"key": key, **target.model_dump()}
        for key, target in zip(target_keys(targets), targets, strict=True)
    ]


def target_from_row(stored: dict[str, Any]) -> tuple[str, TargetIn]:
    spec = {k: v for k, v in stored.items() if k != "key"}
    return str(stored["key"]), TargetIn.model_validate(spec)


async def check_source(
    *, letitia: LetitiaClient, settings: AriSettings, file_id: UUID
) -> dict[str, Any]:
    """The source's Letitia record, once it is known to be audio Ari can read."""
    record = await letitia.get_file(file_id)
    name = record["filename"]
    if not record.get("has_content"):
        raise AudioInputError(
            "no_content", f"{name} is a record without stored bytes: upload the audio itself"
        )
    if int(record.get("file_size") or 0) == 0:
        raise AudioInputError("empty_audio", f"{name} is empty (zero bytes)")
    if is_ari_output(record.get("tags") or []):
        raise AudioInputError("already_mastered", f"{name} is a file Ari made; master its source")
    audio_stream(await ff.probe(settings.ffprobe, letitia.content_url(file_id)), name)
    return record


async def add_audio_event(
    conn: store.Conn, event_type: str, *, file_id: UUID | str, data: dict[str, Any],
    correlation_id: str | None = None,
) -> None:  # fmt: skip
    await outbox.add_event(
        conn,
        type=event_type,
        source=SOURCE,
        subject=f"files/{file_id}",
        data={"file_id": str(file_id), **data},
        correlation_id=correlation_id,
    )


async def start_job(
    *,
    pool: Pool,
    letitia: LetitiaClient,
    settings: AriSettings,
    request: MasterCreate,
    requested_by: str,
) -> dict[str, Any]:
    """Check the source, then queue the job (the pool picks it up)."""
    record = await check_source(letitia=letitia, settings=settings, file_id=request.file_id)
    async with pool.connection() as conn, conn.transaction():
        row = await store.create_job(
            conn=conn,
            source_file_id=request.file_id,
            source_filename=record["filename"],
            targets=stored_targets(request.targets),
            requested_by=requested_by,
        )
    assert row is not None  # no trigger event: nothing to conflict with
    return row


async def get_job(*, pool: Pool, job_id: UUID) -> dict[str, Any]:
    async with pool.connection() as conn:
        row = await store.get_job(conn=conn, job_id=job_id)
    if row is None:
        raise ApiError(404, f"No mastering job with id {job_id}", details={"id": str(job_id)})
    return row


async def cancel_job(*, pool: Pool, job_id: UUID) -> dict[str, Any]:
    """A queued job is cancelled at once; a running one is asked to stop (its worker
    kills ffmpeg and takes back whatever it stored). Finished jobs are 409."""
    async with pool.connection() as conn, conn.transaction():
        row = await store.get_job(conn=conn, job_id=job_id, for_update=True)
        if row is None:
            raise ApiError(404, f"No mastering job with id {job_id}", details={"id": str(job_id)})
        if row["status"] == "queued":
            finished = await store.finish_job(
                conn=conn, job_id=job_id, worker=None, status="cancelled"
            )
            assert finished is not None
            await add_audio_event(
                conn, "audio.mastering_cancelled", file_id=row["source_file_id"],
                data={"job_id": str(job_id)},
            )  # fmt: skip
            return finished
        if row["status"] == "running":
            requested = await store.request_cancel(conn=conn, job_id=job_id)
            assert requested is not None
            return requested
    raise ApiError(409, f"The job is already {row['status']}", details={"status": row["status"]})


async def measure_file(
    *, letitia: LetitiaClient, settings: AriSettings, file_id: UUID
) -> dict[str, Any]:
    """A Letitia file's figures, now (a silent file measures as silent: loudness null)."""
    record = await check_source(letitia=letitia, settings=settings, file_id=file_id)
    await anyio.Path(settings.jobs_dir).mkdir(parents=True, exist_ok=True)
    folder = Path(await anyio.to_thread.run_sync(lambda: tempfile.mkdtemp(dir=settings.jobs_dir)))
    try:
        path = folder / f"source{Path(record['filename']).suffix.lower()}"
        await letitia.download(file_id, path, max_bytes=settings.max_source_bytes)
        result = await analyse(
            settings.ffmpeg, settings.ffprobe, str(path), name=record["filename"]
        )
    finally:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))
    measured = result.to_json()
    if result.integrated_lufs <= SILENCE_LUFS:
        measured["integrated_lufs"] = None
    silent = measured["sample_peak_dbfs"] is None or measured["integrated_lufs"] is None
    return {"file_id": str(file_id), "filename": record["filename"], "silent": silent, **measured}
