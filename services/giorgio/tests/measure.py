"""Independent measurements of artwork (Pillow and fontTools only, none of Giorgio's code).

WCAG 2.2 relative luminance and contrast are written out here again on
purpose: the tests must not grade Giorgio's output with Giorgio's formula.
"""

import io
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import Image, ImageChops


def srgb_to_linear(v: float) -> float:
    c = v / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = (srgb_to_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def wcag_contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def decode(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


def changed_box(
    with_text: Image.Image, without: Image.Image, threshold: int = 48
) -> tuple[int, int, int, int] | None:
    """Bounding box of the pixels text (and its panel) changed: diff, threshold, bbox."""
    diff = ImageChops.difference(with_text.convert("RGB"), without.convert("RGB")).convert("L")
    return diff.point(lambda v: 255 if v > threshold else 0).getbbox()


def text_contrast(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Split the box's pixels into ink and ground by luminance (Otsu), contrast of the medians."""
    region = image.convert("RGB").crop(box)
    region.thumbnail((600, 600), Image.Resampling.NEAREST)
    grey = region.convert("L")
    hist = grey.histogram()
    total = sum(hist)
    sum_all = sum(i * h for i, h in enumerate(hist))
    best, threshold, w0, sum0 = -1.0, 128, 0, 0.0
    for t in range(256):
        w0 += hist[t]
        if w0 == 0 or w0 == total:
            continue
        sum0 += t * hist[t]
        m0, m1 = sum0 / w0, (sum_all - sum0) / (total - w0)
        between = w0 * (total - w0) * (m0 - m1) ** 2
        if between > best:
            best, threshold = between, t
    pixels = list(zip(region.getdata(), grey.getdata(), strict=True))
    dark = sorted((p for p, g in pixels if g <= threshold), key=luminance)
    light = sorted((p for p, g in pixels if g > threshold), key=luminance)
    return wcag_contrast(dark[len(dark) // 2], light[len(light) // 2])


def cmap(path: Path, index: int = 0) -> set[int]:
    with TTFont(str(path), fontNumber=index, lazy=True) as font:
        return set(font.getBestCmap())
