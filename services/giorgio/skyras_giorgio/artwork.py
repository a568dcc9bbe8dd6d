"""Deterministic artwork: a seeded background, the title and artist, an sRGB JPEG.

Who reads it: `generations` renders every variant a request asks for (in a
thread: it is CPU work). Same title, artist, palette, seed and variant give
byte-identical JPEGs: the shapes come from `random.Random` seeded with a
string, nothing depends on time, and the embedded sRGB profile has its
creation date and id zeroed (LittleCMS stamps the current time otherwise).

Each variant is drawn at its own size from one square composition (the
story format is its centre), so text is laid out for the variant's shape
rather than squeezed. Text sits in the variant's safe area, in the ink that
contrasts best with what is under it; where neither ink reaches WCAG's 4.5:1
against every background pixel, a panel behind the text is made opaque
enough that it does.
"""

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms, ImageDraw, ImageFilter

from skyras_giorgio import typography
from skyras_giorgio.contrast import (
    LINEAR_TABLE,
    MIN_TEXT_CONTRAST,
    contrast_ratio,
    relative_luminance,
)
from skyras_giorgio.palettes import RGB, Palette
from skyras_giorgio.specs import MAX_ARTWORK_BYTES, SafeArea, Variant

# The shapes are drawn at this resolution, then scaled: fast, and the same picture at any size.
SHAPE_RESOLUTION = 1024
JPEG_QUALITIES = (92, 88, 84, 80, 75, 70, 60)
PANEL_ALPHAS = (0.0, 0.45, 0.6, 0.75, 0.9, 1.0)


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile with a fixed header (no creation time, no profile id)."""
    raw = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    raw[24:36] = bytes(12)  # dateTimeNumber
    raw[84:100] = bytes(16)  # profile ID (all zero = not computed, as ICC.1 allows)
    return bytes(raw)


@dataclass(frozen=True)
class ArtworkSpec:
    title: str
    artist: str
    palette: Palette
    seed: int


def _composition_rng(spec: ArtworkSpec) -> random.Random:
    # A string seed is hashed with SHA-512 by `random`: stable across runs and machines.
    return random.Random(f"giorgio:{spec.palette.name}:{spec.seed}")


def _shapes_layer(spec: ArtworkSpec) -> Image.Image:
    """The seeded shapes on a transparent square, at SHAPE_RESOLUTION."""
    rng = _composition_rng(spec)
    n = SHAPE_RESOLUTION
    layer = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    accents = spec.palette.accents
    # One large disc (a sun, a moon, a record) and a scatter of rings, discs and bands.
    cx, cy, r = rng.uniform(0.25, 0.75) * n, rng.uniform(0.2, 0.55) * n, rng.uniform(0.18, 0.32) * n
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*rng.choice(accents), 235))
    for _ in range(rng.randint(6, 11)):
        colour = rng.choice(accents)
        alpha = rng.randint(90, 210)
        kind = rng.choice(("ring", "disc", "band"))
        x, y = rng.uniform(0, 1) * n, rng.uniform(0, 1) * n
        size = rng.uniform(0.04, 0.22) * n
        if kind == "ring":
            width = max(2, int(size * rng.uniform(0.06, 0.16)))
            draw.ellipse(
                (x - size, y - size, x + size, y + size), outline=(*colour, alpha), width=width
            )
        elif kind == "disc":
            draw.ellipse(
                (x - size / 2, y - size / 2, x + size / 2, y + size / 2), fill=(*colour, alpha)
            )
        else:
            thickness = max(2, int(size * 0.18))
            draw.line(
                (0, y, n, y + rng.uniform(-0.3, 0.3) * n), fill=(*colour, alpha), width=thickness
            )
    if spec.palette.glow:
        glow = layer.filter(ImageFilter.GaussianBlur(n * 0.02))
        layer = Image.alpha_composite(glow, layer)
    return layer


@lru_cache(maxsize=8)
def _cached_shapes(spec: ArtworkSpec) -> Image.Image:
    return _shapes_layer(spec)


def render_background(spec: ArtworkSpec, width: int, height: int) -> Image.Image:
    """The picture without text (tests diff against it to find the text)."""
    side = max(width, height)
    top, bottom = spec.palette.background
    gradient = Image.linear_gradient("L").resize((side, side), Image.Resampling.BILINEAR)
    # Each channel from the one gradient (no full-size solid images: a 3000 px render stays small).
    channels = [
        gradient.point(lambda v, a=a, b=b: round(a + (b - a) * v / 255))
        for a, b in zip(top, bottom, strict=True)
    ]
    square = Image.merge("RGB", channels)
    del channels, gradient
    shapes = _cached_shapes(spec).resize((side, side), Image.Resampling.BICUBIC)
    square.paste(shapes, (0, 0), shapes)
    left, upper = (side - width) // 2, (side - height) // 2
    return square.crop((left, upper, left + width, upper + height))


def _pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    raw = image.convert("RGB").tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def _luminance_range(image: Image.Image) -> tuple[float, float]:
    """Darkest and lightest relative luminance in the image (sampled down to ~200 px)."""
    sample = image.copy()
    sample.thumbnail((200, 200), Image.Resampling.BOX)
    lums = [
        0.2126 * LINEAR_TABLE[r] + 0.7152 * LINEAR_TABLE[g] + 0.0722 * LINEAR_TABLE[b]
        for r, g, b in _pixels(sample)
    ]
    return min(lums), max(lums)


def _worst_contrast(ink: RGB, lo: float, hi: float) -> float:
    lum = relative_luminance(ink)
    return min(contrast_ratio(lum, lo), contrast_ratio(lum, hi))


@dataclass
class TextPlacement:
    box: tuple[int, int, int, int]  # the panel (or text) rectangle, inside the safe area
    ink: RGB
    contrast: float  # worst case against every background pixel under the text
    panel_alpha: float
    title_size: int
    artist_size: int | None
    title_lines: int
    fonts: list[str]


def place_text(
    image: Image.Image, spec: ArtworkSpec, safe: SafeArea, font_dirs: Sequence[Path]
) -> TextPlacement:
    """Lay out, choose ink and panel, and draw the title and artist onto `image`."""
    width, height = image.size
    sx0, sy0, sx1, sy1 = safe.box(width, height)
    pad = round(min(width, height) * 0.03)
    inner_w, inner_h = sx1 - sx0 - 2 * pad, sy1 - sy0 - 2 * pad
    fitted = typography.fit_text(
        spec.title,
        spec.artist,
        inner_w,
        inner_h,
        start_size=round(min(width, height) * 0.12),
        preferred_height=round(inner_h * 0.45),
        font_dirs=font_dirs,
    )
    block_w, block_h = round(fitted.width), fitted.height
    # Bottom-left of the safe area: the picture keeps the top.
    box = (sx0, sy1 - block_h - 2 * pad, sx0 + block_w + 2 * pad, sy1)
    palette = spec.palette
    lo, hi = _luminance_range(image.crop(box))
    ink = max((palette.light_ink, palette.dark_ink), key=lambda c: _worst_contrast(c, lo, hi))
    panel_colour = palette.dark_ink if ink == palette.light_ink else palette.light_ink
    contrast, alpha = _worst_contrast(ink, lo, hi), 0.0
    for alpha in PANEL_ALPHAS:
        if alpha:
            region = image.crop(box)
            panel = Image.new("RGB", region.size, panel_colour)
            l2, h2 = _luminance_range(Image.blend(region, panel, alpha))
            contrast = _worst_contrast(ink, l2, h2)
        if contrast >= MIN_TEXT_CONTRAST:
            break
    if alpha:
        # Composited over the box only (not the whole picture), to keep memory small.
        region = image.crop(box).convert("RGBA")
        overlay = Image.new("RGBA", region.size, (0, 0, 0, 0))
        # Pillow's rectangles include their end coordinates.
        ImageDraw.Draw(overlay).rounded_rectangle(
            (0, 0, region.width - 1, region.height - 1),
            radius=pad // 2,
            fill=(*panel_colour, round(alpha * 255)),
        )
        image.paste(Image.alpha_composite(region, overlay).convert("RGB"), box[:2])
    draw = ImageDraw.Draw(image)
    y = box[1] + pad
    for block in (fitted.title, fitted.artist):
        if block is None:
            continue
        for index, line in enumerate(block.lines):
            baseline = y + block.ascent + index * block.line_height
            x = float(box[0] + pad)
            for run in line.runs:
                face_font = typography.font(run.face, block.size, font_dirs)
                draw.text((x, baseline), run.text, font=face_font, fill=ink, anchor="ls")
                x += face_font.getlength(run.text)
        y += block.height + fitted.gap
    return TextPlacement(
        box=box,
        ink=ink,
        contrast=round(contrast, 2),
        panel_alpha=alpha,
        title_size=fitted.title.size,
        artist_size=fitted.artist.size if fitted.artist else None,
        title_lines=len(fitted.title.lines),
        fonts=sorted(
            {*fitted.title.faces_used, *(fitted.artist.faces_used if fitted.artist else [])}
        ),
    )


def encode_jpeg(image: Image.Image) -> tuple[bytes, int]:
    """Baseline sRGB JPEG (4:4:4 keeps text edges clean) under the stores' size limit."""
    for quality in JPEG_QUALITIES:
        buffer = io.BytesIO()
        image.save(
            buffer,
            "JPEG",
            quality=quality,
            subsampling=0,
            optimize=True,
            icc_profile=srgb_profile(),
            dpi=(72, 72),
        )
        if buffer.tell() < MAX_ARTWORK_BYTES:
            return buffer.getvalue(), quality
    raise RuntimeError(f"could not encode below {MAX_ARTWORK_BYTES} bytes")  # pragma: no cover


@dataclass
class RenderedVariant:
    variant: Variant
    jpeg: bytes
    quality: int
    placement: TextPlacement

    def summary(self) -> dict[str, Any]:
        p = self.placement
        return {
            "variant": self.variant.name,
            "width": self.variant.width,
            "height": self.variant.height,
            "bytes": len(self.jpeg),
            "jpeg_quality": self.quality,
            "text_box": list(p.box),
            "safe_area": list(self.variant.safe_area.box(self.variant.width, self.variant.height)),
            "ink": "#{:02x}{:02x}{:02x}".format(*p.ink),
            "contrast": p.contrast,
            "panel_alpha": p.panel_alpha,
            "title_size": p.title_size,
            "artist_size": p.artist_size,
            "title_lines": p.title_lines,
            "fonts": p.fonts,
        }


def render_variant(
    spec: ArtworkSpec,
    variant: Variant,
    *,
    background: Image.Image | None = None,
    font_dirs: Sequence[Path] = typography.DEFAULT_FONT_DIRS,
) -> RenderedVariant:
    """One variant; `background` (e.g. from an image model) replaces the seeded picture."""
    if background is None:
        image = render_background(spec, variant.width, variant.height)
    else:
        image = cover_crop(background, variant.width, variant.height)
    placement = place_text(image, spec, variant.safe_area, font_dirs)
    jpeg, quality = encode_jpeg(image)
    return RenderedVariant(variant, jpeg, quality, placement)


def cover_crop(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale to cover width x height, centre-cropped, converted to RGB."""
    source = image.convert("RGB")
    scale = max(width / source.width, height / source.height)
    resized = source.resize(
        (max(width, round(source.width * scale)), max(height, round(source.height * scale))),
        Image.Resampling.LANCZOS,
    )
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return resized.crop((left, top, left + width, top + height))
