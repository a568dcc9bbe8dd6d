"""Running a generation: render, write copy, store in Letitia, record, publish.

Who reads it: the routes (`submit` runs a request now), chat, the event
handlers (`record_request`: a job for the worker) and the worker (`job_worker`).

A generation is a row in `generations`. The API creates it `running`, leased
to itself, and runs it at once; events create it `queued` for the worker. A
lease that runs out (the process died) lets the worker take the job over.
Each state change is one transaction with its event: `creative.requested`
when the row is made, then `creative.generated` or `creative.failed`.
Rendering is CPU work: it runs in a thread, one at a time per process.
"""

import asyncio
import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from PIL import Image, ImageCms, UnidentifiedImageError

from skyras import outbox
from skyras.db import Pool
from skyras.errors import ApiError
from skyras_giorgio import artwork, copytext, specs, store, typography
from skyras_giorgio.config import GiorgioSettings
from skyras_giorgio.letitia import LetitiaClient, LetitiaError
from skyras_giorgio.model import ModelClient, ModelUnavailable
from skyras_giorgio.models import GenerateRequest
from skyras_giorgio.palettes import PALETTES

log = logging.getLogger("skyras_giorgio.generations")

SOURCE = "/agents/giorgio"
DETERMINISTIC = "deterministic"
MODEL = "model"


@dataclass
class Runtime:
    """What running a generation needs; one per app (`app.state.giorgio`)."""

    settings: GiorgioSettings
    pool: Pool
    letitia: LetitiaClient
    model: ModelClient | None
    render_lock: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    async def close(self) -> None:
        await self.letitia.close()
        if self.model is not None:
            await self.model.close()


def open_runtime(settings: GiorgioSettings, pool: Pool) -> Runtime:
    model = ModelClient(settings) if settings.model_configured else None
    return Runtime(settings, pool, LetitiaClient(settings), model)


# ----- validation and parameters ------------------------------------------------------


def check_request(settings: GiorgioSettings, request: GenerateRequest) -> None:
    """What pydantic cannot check: every character has a glyph in the packaged fonts."""
    if not request.wants_artwork:
        return
    try:
        missing = {
            "title": typography.missing_glyphs(
                request.release.title, typography.TITLE_FACES, settings.font_dirs
            ),
            "artist": typography.missing_glyphs(
                request.release.artist, typography.BODY_FACES, settings.font_dirs
            ),
        }
    except typography.FontsMissing as exc:
        raise ApiError(503, str(exc), code="fonts_missing") from exc
    for where, chars in missing.items():
        if chars:
            shown = " ".join(f"{c!r} (U+{ord(c):04X})" for c in chars[:10])
            raise ApiError(
                422,
                f"Invalid request: release.{where}: no packaged font can draw {shown}; "
                "it would show as boxes",
                details=[
                    {
                        "loc": ["body", "release", where],
                        "msg": "characters without glyphs",
                        "type": "value_error",
                        "characters": chars[:10],
                    }
                ],
            )


def default_seed(title: str, artist: str) -> int:
    """The seed of a release when none is given: the same release, the same cover."""
    digest = hashlib.sha256(f"{title}\n{artist}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def resolve_params(request: GenerateRequest) -> dict[str, Any]:
    params = request.model_dump(mode="json")
    if params["seed"] is None:
        params["seed"] = default_seed(request.release.title, request.release.artist)
    return params


# ----- rows and events ----------------------------------------------------------------


async def _publish(conn: store.Conn, event_type: str, row: dict[str, Any]) -> None:
    await outbox.add_event(
        conn,
        type=event_type,
        source=SOURCE,
        subject=f"generations/{row['id']}",
        data={"generation": store.generation_json(row)},
    )


async def record_request(
    conn: store.Conn, *, request: GenerateRequest, settings: GiorgioSettings, run_now: bool
) -> dict[str, Any]:
    """The job row and its `creative.requested` event, in the caller's transaction.

    `run_now`: leased to the caller, who runs it at once (the API); otherwise
    queued for the worker (events).
    """
    row = await store.create_generation(
        conn=conn,
        kind=request.kind,
        params=resolve_params(request),
        task_id=request.task_id,
        release_id=request.release_id,
        running=run_now,
        lease_seconds=settings.job_lease_seconds,
    )
    await _publish(conn, "creative.requested", row)
    return row


async def submit(runtime: Runtime, request: GenerateRequest) -> dict[str, Any]:
    """Validate, record, run now; returns the finished row (status succeeded or failed)."""
    check_request(runtime.settings, request)
    async with runtime.pool.connection() as conn, conn.transaction():
        row = await record_request(conn, request=request, settings=runtime.settings, run_now=True)
    return await run(runtime, row)


async def run(runtime: Runtime, row: dict[str, Any]) -> dict[str, Any]:
    """Produce a leased job's results and record how it ended."""
    result = Result()
    error: str | None = None
    try:
        await produce(runtime, row, result)
    except (LetitiaError, typography.FontsMissing) as exc:
        error = str(exc)
    except Exception as exc:
        log.exception("generation %s failed", row["id"])
        error = f"internal error: {type(exc).__name__}: {exc}"
    if error is not None:
        # Nothing half-made stays in the library.
        await _discard(runtime, result.outputs)
        result.outputs = []
    async with runtime.pool.connection() as conn, conn.transaction():
        finished = await store.finish(
            conn=conn,
            generation_id=row["id"],
            status="failed" if error else "succeeded",
            sources=result.sources,
            fallbacks=result.fallbacks,
            outputs=result.outputs,
            copy=result.copy,
            error=error,
        )
        if finished is None:
            # Deleted (or taken over after our lease ran out) meanwhile: what we made is not kept.
            await _discard(runtime, result.outputs)
            current = await store.get_generation(conn=conn, generation_id=row["id"])
            return current or {**row, "status": "failed", "error": "deleted while running"}
        await _publish(conn, "creative.failed" if error else "creative.generated", finished)
    return finished


async def _discard(runtime: Runtime, outputs: list[dict[str, Any]]) -> None:
    for output in outputs:
        try:
            await runtime.letitia.delete(output["file_id"])
        except LetitiaError as exc:
            log.warning("could not remove %s from Letitia: %s", output["file_id"], exc)


# ----- producing ----------------------------------------------------------------------


@dataclass
class Result:
    sources: dict[str, str] = field(default_factory=dict)
    fallbacks: list[str] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    copy: dict[str, Any] = field(default_factory=dict)


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w]+", "-", text.lower()).strip("-")[:60].strip("-")
    return slug or "release"


def _variants(params: dict[str, Any]) -> list[specs.Variant]:
    chosen = [specs.VARIANTS[name] for name in params["variants"]]
    for size in params.get("extra_sizes") or []:
        w, h = size["width"], size["height"]
        chosen.append(specs.Variant(f"custom_{w}x{h}", w, h, "requested size", specs.CUSTOM_SAFE))
    return chosen


def _tags(row: dict[str, Any], kind_tag: str, *extra: str) -> list[str]:
    tags = ["giorgio", kind_tag, f"generation-{row['id']}", *extra]
    if row.get("release_id"):
        # Letitia's tags have no commas or slashes and at most 50 characters.
        tags.append(f"release-{_slug(row['release_id'])}"[:50])
    return tags


async def produce(runtime: Runtime, row: dict[str, Any], result: Result) -> None:
    params = row["params"]
    release = params["release"]
    use_model = runtime.model is not None and params.get("use_model", True)
    if row["kind"] in ("artwork", "release_kit"):
        await _produce_artwork(runtime, row, result, use_model=use_model)
    if row["kind"] in ("copy", "release_kit"):
        result.copy = await _produce_copy(runtime, release, params, result, use_model=use_model)
        document = copytext.as_markdown(release, result.copy).encode()
        filename = f"{_slug(release['title'])}-copy.md"
        record = await runtime.letitia.upload(
            filename=filename,
            content=document,
            content_type="text/markdown; charset=utf-8",
            tags=_tags(row, "copy"),
            title=f"{release['title']}: release copy"[:200],
            description=f"Release description, show notes and posts for {', '.join(params['platforms'])}; made by Giorgio ({result.sources['copy']}).",
            task_id=row["task_id"],
        )
        result.outputs.append(
            _output("copy", record, document, {"limits": copytext.limit_report(result.copy)})
        )


def _output(
    name: str, record: dict[str, Any], content: bytes, details: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": name,
        "file_id": record["id"],
        "filename": record["filename"],
        "content_type": record.get("content_type") or "application/octet-stream",
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "details": details,
    }


async def _model_background(runtime: Runtime, params: dict[str, Any]) -> Image.Image:
    assert runtime.model is not None
    release = params["release"]
    palette = PALETTES[params["palette"]]
    prompt = (
        f'Album cover artwork for the release "{release["title"]}"'
        + (f" by {release['artist']}" if release.get("artist") else "")
        + f". Style: {palette.name} ({palette.description})."
        + (f" Genre: {release['genre']}." if release.get("genre") else "")
        + " Abstract, no text, no letters, no logos."
    )
    data = await runtime.model.image(prompt)
    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ModelUnavailable("the generated image could not be decoded") from exc
    profile = image.info.get("icc_profile")
    if profile:
        # Whatever colour space the model used, the cover is sRGB.
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        image = (
            ImageCms.profileToProfile(image.convert("RGB"), source, ImageCms.createProfile("sRGB"))
            or image
        )
    return image.convert("RGB")


async def _produce_artwork(
    runtime: Runtime, row: dict[str, Any], result: Result, *, use_model: bool
) -> None:
    params = row["params"]
    release = params["release"]
    background = None
    result.sources["artwork"] = DETERMINISTIC
    if use_model and runtime.settings.image_model:
        try:
            background = await _model_background(runtime, params)
            result.sources["artwork"] = MODEL
        except ModelUnavailable as exc:
            result.fallbacks.append(f"artwork: {exc}; the deterministic generator answered")
    spec = artwork.ArtworkSpec(
        release["title"], release.get("artist") or "", PALETTES[params["palette"]], params["seed"]
    )
    slug = _slug(release["title"])
    for variant in _variants(params):
        async with runtime.render_lock:
            rendered = await asyncio.to_thread(
                artwork.render_variant,
                spec,
                variant,
                background=background,
                font_dirs=tuple(runtime.settings.font_dirs),
            )
        details = {
            **rendered.summary(),
            "palette": spec.palette.name,
            "seed": spec.seed,
            "source": result.sources["artwork"],
        }
        record = await runtime.letitia.upload(
            filename=f"{slug}-{variant.name}-{variant.width}x{variant.height}.jpg",
            content=rendered.jpeg,
            content_type="image/jpeg",
            tags=_tags(row, "artwork", variant.name.replace("_", "-"), spec.palette.name),
            title=f"{release['title']}: {variant.name.replace('_', ' ')} {variant.width}x{variant.height}"[
                :200
            ],
            description=f"{variant.purpose}. Palette {spec.palette.name}, seed {spec.seed}, {result.sources['artwork']}; made by Giorgio.",
            task_id=row["task_id"],
        )
        result.outputs.append(_output(variant.name, record, rendered.jpeg, details))


def _copy_messages(release: dict[str, Any], platforms: list[str]) -> list[dict[str, str]]:
    limits = {name: doc.limit for name, doc in copytext.DOCUMENTS.items()}
    limits.update({name: copytext.PLATFORMS[name].limit for name in platforms})
    return [
        {
            "role": "system",
            "content": "You write release copy for a music studio. Answer with one JSON object "
            "whose keys are the requested pieces and whose values are plain text, each within "
            "its character limit. Never invent facts beyond the metadata.",
        },
        {
            "role": "user",
            "content": json.dumps(
                {"release": release, "pieces_and_limits": limits}, ensure_ascii=False
            ),
        },
    ]


async def _produce_copy(
    runtime: Runtime,
    release: dict[str, Any],
    params: dict[str, Any],
    result: Result,
    *,
    use_model: bool,
) -> dict[str, Any]:
    copy = copytext.render_all(release, params["platforms"])
    result.sources["copy"] = DETERMINISTIC
    if not use_model or runtime.model is None:
        return copy
    try:
        answer = await runtime.model.chat(
            _copy_messages(release, params["platforms"]), json_object=True
        )
        pieces = json.loads(answer)
        if not isinstance(pieces, dict):
            raise ModelUnavailable("the model's answer was not a JSON object")
    except (ModelUnavailable, ValueError) as exc:
        reason = (
            str(exc) if isinstance(exc, ModelUnavailable) else "the model's answer was not JSON"
        )
        result.fallbacks.append(f"copy: {reason}; the templates answered")
        return copy
    used, refused = 0, []
    for name in [*copytext.DOCUMENTS, *params["platforms"]]:
        text = pieces.get(name)
        if isinstance(text, str) and copytext.within_limit(name, text.strip()):
            if name in copytext.DOCUMENTS:
                copy[name] = text.strip()
            else:
                copy["social"][name] = text.strip()
            used += 1
        else:
            refused.append(name)
    result.sources["copy"] = MODEL if used else DETERMINISTIC
    if refused:
        result.fallbacks.append(
            f"copy: the model's {', '.join(refused)} missing or over the limit; the templates answered for those"
        )
    return copy


# ----- the worker ---------------------------------------------------------------------


async def run_next(runtime: Runtime) -> bool:
    """Run one queued (or abandoned) job; False when there was none."""
    settings = runtime.settings
    async with runtime.pool.connection() as conn, conn.transaction():
        for exhausted in await store.exhausted_jobs(
            conn=conn, max_attempts=settings.job_max_attempts
        ):
            await _publish(conn, "creative.failed", exhausted)
        row = await store.claim_next(
            conn=conn,
            lease_seconds=settings.job_lease_seconds,
            max_attempts=settings.job_max_attempts,
        )
    if row is None:
        return False
    await run(runtime, row)
    return True


async def job_worker(app: FastAPI) -> None:
    """Runs the jobs events queued (and takes over those a dead process left)."""
    runtime: Runtime = app.state.giorgio
    while True:
        if not await run_next(runtime):
            await asyncio.sleep(runtime.settings.job_poll_seconds)


def parse_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as exc:
        raise ApiError(404, f"No generation with id {value}", details={"id": value}) from exc
