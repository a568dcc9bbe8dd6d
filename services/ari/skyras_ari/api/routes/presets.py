"""`/api/presets`: the mastering presets, their targets and where they come from."""

from fastapi import APIRouter

from skyras_ari.audio.mastering import OUTPUT_FORMATS, SAMPLE_RATES
from skyras_ari.models import PresetPublic, PresetsPublic
from skyras_ari.presets import PRESETS

router = APIRouter(prefix="/api/presets", tags=["presets"])


@router.get("", response_model=PresetsPublic)
async def list_presets() -> PresetsPublic:
    """Every preset, with the output formats and sample rates a target may ask for."""
    return PresetsPublic(
        items=[
            PresetPublic(
                name=p.name,
                title=p.title,
                integrated_lufs=p.integrated_lufs,
                mono_integrated_lufs=p.mono_integrated_lufs,
                true_peak_dbtp=p.true_peak_dbtp,
                source=p.source,
            )
            for p in PRESETS.values()
        ],
        formats=list(OUTPUT_FORMATS),
        sample_rates=list(SAMPLE_RATES),
    )
