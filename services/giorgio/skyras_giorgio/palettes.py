"""Palettes (styles) for artwork: background colours, accents and inks.

A palette gives the generator its colours; the seed chooses the shapes. Text
is drawn in whichever ink contrasts best with what lies under it (see
`artwork.place_text`), so a palette need not guarantee contrast itself.
"""

from dataclasses import dataclass

RGB = tuple[int, int, int]


def hex_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


@dataclass(frozen=True)
class Palette:
    name: str
    description: str
    background: tuple[RGB, RGB]  # gradient top -> bottom
    accents: tuple[RGB, ...]
    light_ink: RGB
    dark_ink: RGB
    glow: bool = False  # blurred light shapes (neon signs)


def _p(
    name: str,
    description: str,
    bg: tuple[str, str],
    accents: tuple[str, ...],
    light: str,
    dark: str,
    glow: bool = False,
) -> Palette:
    return Palette(
        name,
        description,
        (hex_rgb(bg[0]), hex_rgb(bg[1])),
        tuple(hex_rgb(a) for a in accents),
        hex_rgb(light),
        hex_rgb(dark),
        glow,
    )


PALETTES: dict[str, Palette] = {
    p.name: p
    for p in (
        _p(
            "neon",
            "night city: magenta, cyan and violet glow on near-black",
            ("#0b0221", "#1a0536"),
            ("#ff2bd6", "#00f0ff", "#7c3aed", "#ffe66d"),
            "#ffffff",
            "#0b0221",
            glow=True,
        ),
        _p(
            "midnight",
            "deep blues with a pale moon",
            ("#0f172a", "#1e3a8a"),
            ("#60a5fa", "#c7d2fe", "#f8fafc"),
            "#f8fafc",
            "#0f172a",
        ),
        _p(
            "sunset",
            "warm oranges, pinks and a purple sky",
            ("#ff7e5f", "#6a3093"),
            ("#feb47b", "#ffd86f", "#ff5e62"),
            "#fffaf0",
            "#2b0f3a",
        ),
        _p(
            "forest",
            "greens and moss with morning light",
            ("#0b3d2e", "#14532d"),
            ("#84cc16", "#a3e635", "#fef08a"),
            "#f7fee7",
            "#052e16",
        ),
        _p(
            "ocean",
            "teal water and foam",
            ("#023e8a", "#00b4d8"),
            ("#90e0ef", "#caf0f8", "#0077b6"),
            "#ffffff",
            "#03045e",
        ),
        _p(
            "mono",
            "black, white and greys",
            ("#111111", "#3a3a3a"),
            ("#f5f5f5", "#9e9e9e", "#616161"),
            "#ffffff",
            "#000000",
        ),
        _p(
            "pastel",
            "soft pinks, mint and lavender on cream",
            ("#fff1e6", "#fde2e4"),
            ("#cdb4db", "#a2d2ff", "#bde0fe", "#ffafcc"),
            "#ffffff",
            "#2d2a32",
        ),
    )
}
DEFAULT_PALETTE = "midnight"
