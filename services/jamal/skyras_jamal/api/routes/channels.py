"""`/api/channels`: where Jamal can publish, and whether each channel is configured."""

from typing import Any

from fastapi import APIRouter

from skyras_jamal.api.deps import SettingsDep
from skyras_jamal.models import ChannelsPublic

router = APIRouter(prefix="/api/channels", tags=["channels"])


@router.get("", response_model=ChannelsPublic)
async def list_channels(settings: SettingsDep) -> dict[str, Any]:
    """The channels a release can name."""
    return {
        "items": [
            {
                "channel": "podcast",
                "configured": True,
                "description": "The show's RSS feed (Apple Podcasts, Spotify and every app)",
                "details": {"public_url": settings.public_url},
            },
            {
                "channel": "webhook",
                "configured": settings.webhook_configured,
                "description": "A signed Standard Webhooks POST to each configured URL",
                "details": {"urls": len(settings.webhook_url_list)},
            },
            {
                "channel": "bucket",
                "configured": settings.bucket_configured,
                "description": "Audio and artwork copied to an S3-compatible bucket",
                "details": {
                    "bucket": settings.s3_bucket,
                    "public_url": (
                        settings.bucket_public_base if settings.bucket_configured else None
                    ),
                },
            },
        ]
    }
