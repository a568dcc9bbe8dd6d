"""Artwork as the stores and a reader see it, measured with Pillow and fontTools."""

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from skyras_giorgio import artwork, specs
from skyras_giorgio.palettes import PALETTES

from .measure import changed_box, cmap, decode, text_contrast, wcag_contrast

NOTO_CJK_BOLD = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
LONG_TITLE = (
    "The Extraordinarily Long And Winding Road Through Supercalifragilisticexpialidocious "
    "Neon-Lit Boulevards Of A City That Never Sleeps, Part Two: Pneumonoultramicroscopicsilico"
    "volcanoconiosis Remixed"
)[:200]
CJK_TITLE = "夜のドライブ　東京の灯りと雨の匂い、そして誰もいない高速道路"
# What the test holds the safe areas to (independent of specs.py): 8 % margins on
# squares; stories keep clear of Instagram's top 250 px and bottom 340 px.
MIN_MARGINS = {
    "cover": (240, 240, 240, 240),
    "podcast": (112, 112, 112, 112),
    "social_square": (86, 86, 86, 86),
    "social_story": (86, 250, 86, 340),
}


def spec(
    title: str = "Night Drive", artist: str = "Aurora Lane", palette: str = "neon", seed: int = 42
) -> artwork.ArtworkSpec:
    return artwork.ArtworkSpec(title, artist, PALETTES[palette], seed)


@pytest.fixture(scope="module")
def fonts_installed() -> None:
    for path, package in ((DEJAVU_BOLD, "fonts-dejavu-core"), (NOTO_CJK_BOLD, "fonts-noto-cjk")):
        if not path.is_file():
            pytest.fail(f"{path} is missing: apt-get install {package} (make system-deps)")


def _hash_in_fresh_process(title: str, palette: str, seed: int, variant: str) -> str:
    program = (
        "import hashlib; from skyras_giorgio import artwork, specs; from skyras_giorgio.palettes import PALETTES;"
        f"s = artwork.ArtworkSpec({title!r}, 'Aurora Lane', PALETTES[{palette!r}], {seed});"
        f"print(hashlib.sha256(artwork.render_variant(s, specs.VARIANTS[{variant!r}]).jpeg).hexdigest())"
    )
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_same_inputs_and_seed_give_byte_identical_jpegs_across_processes(
    fonts_installed: None,
) -> None:
    here = hashlib.sha256(artwork.render_variant(spec(), specs.VARIANTS["cover"]).jpeg).hexdigest()
    assert _hash_in_fresh_process("Night Drive", "neon", 42, "cover") == here
    assert _hash_in_fresh_process("Night Drive", "neon", 43, "cover") != here
    assert _hash_in_fresh_process("Night Drive", "sunset", 42, "cover") != here


@pytest.mark.parametrize("variant", list(specs.VARIANTS))
def test_every_variant_is_an_srgb_baseline_jpeg_of_its_size_under_10_mb(
    variant: str, fonts_installed: None
) -> None:
    rendered = artwork.render_variant(spec(palette="sunset"), specs.VARIANTS[variant])
    image = decode(rendered.jpeg)
    expected = {
        "cover": (3000, 3000),
        "podcast": (1400, 1400),
        "social_square": (1080, 1080),
        "social_story": (1080, 1920),
    }
    assert image.format == "JPEG" and image.mode == "RGB"
    assert image.size == expected[variant]
    assert len(rendered.jpeg) < 10 * 1000 * 1000
    assert not image.info.get("progressive") and not image.info.get("progression")
    profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    assert profile.profile.xcolor_space.strip() == "RGB"


def test_the_cover_meets_every_named_store_requirement(fonts_installed: None) -> None:
    jpeg = artwork.render_variant(spec(palette="forest"), specs.VARIANTS["cover"]).jpeg
    image = decode(jpeg)
    assert {"apple_music", "spotify", "amazon_music"} <= set(specs.STORE_REQUIREMENTS)
    for requirement in specs.STORE_REQUIREMENTS.values():
        assert image.width >= requirement.min_width and image.height >= requirement.min_height
        assert image.width == image.height or not requirement.square
        assert image.format in requirement.formats and len(jpeg) < requirement.max_bytes


@pytest.mark.parametrize("palette", list(PALETTES))
def test_text_contrast_measured_on_the_output_reaches_wcag_aa(
    palette: str, fonts_installed: None
) -> None:
    s = spec(palette=palette, seed=7)
    variant = specs.VARIANTS["podcast"]
    image = decode(artwork.render_variant(s, variant).jpeg)
    box = changed_box(image, artwork.render_background(s, variant.width, variant.height))
    assert box is not None, "no text found on the image"
    assert text_contrast(image, box) >= 4.5
    # Each palette's own inks are far enough apart for a fully opaque panel to work.
    p = PALETTES[palette]
    assert wcag_contrast(p.light_ink, p.dark_ink) >= 4.5


@pytest.mark.parametrize("variant", list(specs.VARIANTS))
@pytest.mark.parametrize(
    "title", [LONG_TITLE, CJK_TITLE, "W" * 200], ids=["long", "cjk", "one-200-char-word"]
)
def test_long_and_cjk_titles_stay_inside_the_safe_area(
    title: str, variant: str, fonts_installed: None
) -> None:
    s = spec(
        title=title,
        artist="星野 光 & The Night Shift Orchestra of Extraordinary Length",
        palette="mono",
    )
    v = specs.VARIANTS[variant]
    image = decode(artwork.render_variant(s, v).jpeg)
    box = changed_box(image, artwork.render_background(s, v.width, v.height))
    assert box is not None
    left, top, right, bottom = MIN_MARGINS[variant]
    assert box[0] >= left and box[1] >= top, box
    assert box[2] <= v.width - right and box[3] <= v.height - bottom, box
    # Nothing is cut: the last character is drawn (changing it changes the picture).
    other = artwork.render_variant(spec(title=title[:-1] + "Ж", artist=s.artist, palette="mono"), v)
    assert decode(other.jpeg).tobytes() != image.tobytes()


def test_a_cjk_title_is_drawn_with_a_font_that_has_its_glyphs(fonts_installed: None) -> None:
    rendered = artwork.render_variant(
        spec(title=CJK_TITLE, artist="星野 光"), specs.VARIANTS["social_square"]
    )
    noto, dejavu = cmap(NOTO_CJK_BOLD), cmap(DEJAVU_BOLD)
    chars = {ord(c) for c in CJK_TITLE if not c.isspace()}
    assert chars - dejavu, "the title should need the CJK font"
    assert chars <= noto, "every character has a glyph in Noto Sans CJK (no boxes)"
    assert "Noto Sans CJK JP Bold" in rendered.summary()["fonts"]
    # Boxes (.notdef) look the same for every character: three different characters alone
    # as titles must give three different pictures.
    singles = [
        decode(
            artwork.render_variant(spec(title=ch, artist=""), specs.VARIANTS["social_square"]).jpeg
        ).tobytes()
        for ch in "夜東雨"
    ]
    assert len(set(singles)) == 3


def test_a_model_background_is_cropped_and_keeps_the_text_rules(fonts_installed: None) -> None:
    picture = Image.new("RGB", (1024, 768), (250, 250, 250))  # a white, landscape model image
    rendered = artwork.render_variant(spec(), specs.VARIANTS["social_story"], background=picture)
    image = decode(rendered.jpeg)
    assert image.size == (1080, 1920)
    box = changed_box(image, artwork.cover_crop(picture, 1080, 1920))
    assert box is not None and text_contrast(image, box) >= 4.5
