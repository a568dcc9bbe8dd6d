"""WCAG 2.2 contrast: relative luminance of sRGB colours and the contrast ratio.

https://www.w3.org/TR/WCAG22/#dfn-relative-luminance. Text must reach
`MIN_TEXT_CONTRAST` against every part of the background it sits on.
"""

# WCAG AA for normal text (large text needs only 3:1; we hold all text to 4.5).
MIN_TEXT_CONTRAST = 4.5


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: float, b: float) -> float:
    """The ratio of two relative luminances, lighter over darker (1 to 21)."""
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


# 256 entries: sRGB 8-bit value -> linear light, for images (Image.point).
LINEAR_TABLE = [_linear(v) for v in range(256)]
