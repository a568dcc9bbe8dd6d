"""`GET /api/options`: what a request may choose (palettes, variants, platforms) and the rules."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from skyras_giorgio import copytext, specs
from skyras_giorgio.api.deps import RuntimeDep
from skyras_giorgio.models import KINDS
from skyras_giorgio.palettes import DEFAULT_PALETTE, PALETTES

router = APIRouter(prefix="/api/options", tags=["options"])


@router.get("")
async def options(runtime: RuntimeDep) -> dict[str, Any]:
    """Palettes, variants with sizes, platforms with limits, store requirements, the model."""
    settings = runtime.settings
    return {
        "kinds": list(KINDS),
        "palettes": [{"name": p.name, "description": p.description} for p in PALETTES.values()],
        "default_palette": DEFAULT_PALETTE,
        "variants": [
            {"name": v.name, "width": v.width, "height": v.height, "purpose": v.purpose}
            for v in specs.VARIANTS.values()
        ],
        "extra_sizes": {
            "min_side": specs.MIN_SIDE,
            "max_side": specs.MAX_SIDE,
            "max_aspect": specs.MAX_ASPECT,
            "max_count": specs.MAX_EXTRA_SIZES,
        },
        "platforms": [
            {"name": p.name, "label": p.label, "limit": p.limit}
            for p in copytext.PLATFORMS.values()
        ],
        "documents": [
            {"name": d.name, "label": d.label, "limit": d.limit}
            for d in copytext.DOCUMENTS.values()
        ],
        "store_requirements": {k: asdict(v) for k, v in specs.STORE_REQUIREMENTS.items()},
        "model": {
            "configured": settings.model_configured,
            "chat_model": settings.chat_model if settings.model_configured else None,
            "image_model": settings.image_model if settings.model_configured else None,
        },
    }
