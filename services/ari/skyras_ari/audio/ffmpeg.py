"""Running ffmpeg and ffprobe: progress from `-progress`, cancellation that kills them.

ffmpeg writes `key=value` lines to `-progress pipe:1`; `out_time_us` over the
input's duration is the fraction done. When the awaiting task is cancelled
(a job cancelled by a user, a worker shutting down) the process is killed
before the cancellation goes on, so no ffmpeg outlives its job.
"""

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from skyras.errors import ApiError

Progress = Callable[[float], None]

# What ffmpeg says on stderr that is worth quoting back to a user.
STDERR_TAIL = 2000


class FfmpegError(ApiError):
    """ffmpeg failed on input it could open: the message carries its last words."""

    def __init__(self, message: str, stderr: str = "") -> None:
        tail = stderr.strip().splitlines()[-3:]
        super().__init__(
            422,
            message + (f": {' / '.join(tail)}" if tail else ""),
            code="audio_processing_failed",
        )


class ToolMissing(ApiError):
    def __init__(self, tool: str) -> None:
        super().__init__(
            503,
            f"{tool} is not installed: install Debian's ffmpeg package (apt-get install ffmpeg)",
            code="tool_missing",
        )


async def spawn(argv: Sequence[str], *, stdout: int | None) -> asyncio.subprocess.Process:
    try:
        return await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=stdout, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError as exc:
        raise ToolMissing(argv[0]) from exc


async def kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await proc.wait()


async def probe(ffprobe: str, path: str) -> dict[str, Any] | None:
    """ffprobe's JSON for the file, or None when ffprobe cannot read it at all.

    It reads the first packet too (`nb_read_packets`), so a file with a header
    and no audio shows as empty without decoding the rest."""
    argv = [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
            "-count_packets", "-read_intervals", "%+#1", path]  # fmt: skip
    proc = await spawn(argv, stdout=asyncio.subprocess.PIPE)
    try:
        out, _ = await proc.communicate()
    except asyncio.CancelledError:
        await kill(proc)
        raise
    if proc.returncode != 0:
        return None
    try:
        parsed: dict[str, Any] = json.loads(out)
    except ValueError:
        return None
    return parsed


async def run(
    ffmpeg: str,
    args: Sequence[str],
    *,
    duration: float = 0.0,
    on_progress: Progress | None = None,
) -> str:
    """Run `ffmpeg args`, reporting progress (0..1); returns stderr, raises FfmpegError."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-y", "-progress", "pipe:1", *args]
    proc = await spawn(argv, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    stderr_task = asyncio.create_task(proc.stderr.read())
    try:
        async for raw in proc.stdout:
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if key == "out_time_us" and on_progress and duration > 0 and value.isdigit():
                on_progress(min(1.0, int(value) / 1e6 / duration))
        await proc.wait()
        stderr = (await stderr_task).decode(errors="replace")
    except asyncio.CancelledError:
        stderr_task.cancel()
        await kill(proc)
        raise
    if proc.returncode != 0:
        raise FfmpegError("ffmpeg could not process the audio", stderr[-STDERR_TAIL:])
    if on_progress:
        on_progress(1.0)
    return stderr
