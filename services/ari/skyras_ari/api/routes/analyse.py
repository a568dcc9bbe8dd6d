"""`/api/analyse`: measure a Letitia file now (loudness, range, peaks, clipping)."""

from typing import Any

from fastapi import APIRouter

from skyras_ari import jobs
from skyras_ari.api.deps import LetitiaDep, SettingsDep
from skyras_ari.models import AnalyseRequest

router = APIRouter(prefix="/api/analyse", tags=["analysis"])


@router.post("")
async def analyse_file(
    request: AnalyseRequest, letitia: LetitiaDep, settings: SettingsDep
) -> dict[str, Any]:
    """Integrated loudness, range, true and sample peak, clipped samples, duration, layout."""
    return await jobs.measure_file(letitia=letitia, settings=settings, file_id=request.file_id)
