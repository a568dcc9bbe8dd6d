"""What the stores and platforms ask of artwork, and the variants Giorgio makes.

One home for these numbers: the renderer reads the variants, the API checks
requests against the limits, the tests measure the output against the
requirements named here.

Music stores (as the distributors that deliver to them publish it: Apple
Music's and Spotify's artwork specs via DistroKid, TuneCore, CD Baby):
square, at least 3000x3000 px, RGB (sRGB), JPEG (or PNG), no larger than
10 MB. Apple Podcasts: square 1400-3000 px, RGB JPEG/PNG. Instagram and
Facebook feeds: 1080x1080; stories and reels: 1080x1920, where the app's own
controls cover about the top 250 px and the bottom 340 px.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreRequirement:
    store: str
    min_width: int
    min_height: int
    square: bool
    formats: tuple[str, ...]
    color_space: str
    max_bytes: int


MB = 1_000_000

STORE_REQUIREMENTS: dict[str, StoreRequirement] = {
    "apple_music": StoreRequirement(
        "Apple Music", 3000, 3000, True, ("JPEG", "PNG"), "sRGB", 10 * MB
    ),
    "spotify": StoreRequirement("Spotify", 3000, 3000, True, ("JPEG", "PNG"), "sRGB", 10 * MB),
    "amazon_music": StoreRequirement("Amazon Music", 3000, 3000, True, ("JPEG",), "sRGB", 10 * MB),
    "apple_podcasts": StoreRequirement(
        "Apple Podcasts", 1400, 1400, True, ("JPEG", "PNG"), "sRGB", 10 * MB
    ),
}

# Every JPEG we write stays below the strictest of these.
MAX_ARTWORK_BYTES = min(r.max_bytes for r in STORE_REQUIREMENTS.values())


@dataclass(frozen=True)
class SafeArea:
    """Margins (fractions of width / height) inside which all text stays."""

    left: float
    top: float
    right: float
    bottom: float

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        return (
            round(width * self.left),
            round(height * self.top),
            round(width * (1 - self.right)),
            round(height * (1 - self.bottom)),
        )


@dataclass(frozen=True)
class Variant:
    name: str
    width: int
    height: int
    purpose: str
    safe_area: SafeArea


SQUARE_SAFE = SafeArea(0.08, 0.08, 0.08, 0.08)
# Stories: the app's header and reply bar cover the top and bottom.
STORY_SAFE = SafeArea(0.08, 250 / 1920 + 0.02, 0.08, 340 / 1920 + 0.02)

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "cover", 3000, 3000, "music stores (Apple Music, Spotify, Amazon Music)", SQUARE_SAFE
        ),
        Variant("podcast", 1400, 1400, "podcast directories (Apple Podcasts minimum)", SQUARE_SAFE),
        Variant("social_square", 1080, 1080, "Instagram / Facebook feed posts", SQUARE_SAFE),
        Variant("social_story", 1080, 1920, "Instagram / Facebook stories and reels", STORY_SAFE),
    )
}
DEFAULT_VARIANTS: tuple[str, ...] = tuple(VARIANTS)

# Extra sizes a request may ask for (e.g. a banner): bounds that keep a
# render within memory and time, and text legible.
MIN_SIDE = 320
MAX_SIDE = 4096
MAX_ASPECT = 4.0
MAX_EXTRA_SIZES = 4
CUSTOM_SAFE = SafeArea(0.08, 0.08, 0.08, 0.08)
