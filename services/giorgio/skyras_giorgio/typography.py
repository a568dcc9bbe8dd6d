"""Typography: packaged open-licence fonts, per-character fallback, wrapping, fitting.

Who reads it: `artwork` lays out the title and the artist with `fit_text`;
the request models ask `missing_glyphs` so a title no font can draw is refused
before anything is written (no boxes on a cover).

Fonts come from Debian packages (the image installs the same ones):
DejaVu Sans (`fonts-dejavu-core`, Bitstream Vera / DejaVu licence) draws Latin,
Greek, Cyrillic, Arabic, Hebrew and more; Noto Sans CJK (`fonts-noto-cjk`, SIL
OFL 1.1) draws Chinese, Japanese and Korean. Each character goes to the
first face whose cmap (read with fontTools) has it; text is shaped with
Pillow's raqm layout when available (Arabic joins, bidi within a run).
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont, features

DEFAULT_FONT_DIRS: tuple[Path, ...] = (Path("/usr/share/fonts"),)


@dataclass(frozen=True)
class Face:
    """One font file (and face index in a collection) from a Debian package."""

    key: str
    relative_path: str  # below a font directory
    index: int
    package: str
    licence: str


DEJAVU_BOLD = Face(
    "DejaVu Sans Bold",
    "truetype/dejavu/DejaVuSans-Bold.ttf",
    0,
    "fonts-dejavu-core",
    "Bitstream Vera / DejaVu (free)",
)
DEJAVU = Face(
    "DejaVu Sans",
    "truetype/dejavu/DejaVuSans.ttf",
    0,
    "fonts-dejavu-core",
    "Bitstream Vera / DejaVu (free)",
)
# Index 0 of the collections is the Japanese face; it has every CJK ideograph the others have.
NOTO_CJK_BOLD = Face(
    "Noto Sans CJK JP Bold",
    "opentype/noto/NotoSansCJK-Bold.ttc",
    0,
    "fonts-noto-cjk",
    "SIL OFL 1.1",
)
NOTO_CJK = Face(
    "Noto Sans CJK JP Regular",
    "opentype/noto/NotoSansCJK-Regular.ttc",
    0,
    "fonts-noto-cjk",
    "SIL OFL 1.1",
)

TITLE_FACES: tuple[Face, ...] = (DEJAVU_BOLD, NOTO_CJK_BOLD)
BODY_FACES: tuple[Face, ...] = (DEJAVU, NOTO_CJK)
ALL_FACES: tuple[Face, ...] = (*TITLE_FACES, *BODY_FACES)

LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


class FontsMissing(RuntimeError):
    """A font file is not installed; the message says which Debian package holds it."""


def font_path(face: Face, font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS) -> Path:
    for folder in font_dirs:
        candidate = Path(folder) / face.relative_path
        if candidate.is_file():
            return candidate
    dirs = ", ".join(str(d) for d in font_dirs)
    raise FontsMissing(
        f"font {face.key} ({face.relative_path}) not found under {dirs}: "
        f"install the Debian package {face.package} (apt-get install {face.package})"
    )


@lru_cache(maxsize=16)
def _cmap(path: Path, index: int) -> frozenset[int]:
    with TTFont(str(path), fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap())


def coverage(face: Face, font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS) -> frozenset[int]:
    """The code points this face has glyphs for."""
    return _cmap(font_path(face, font_dirs), face.index)


@lru_cache(maxsize=256)
def _font(path: Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size=size, index=index, layout_engine=LAYOUT)


def font(
    face: Face, size: int, font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS
) -> ImageFont.FreeTypeFont:
    return _font(font_path(face, font_dirs), face.index, size)


def _needs_glyph(ch: str) -> bool:
    # Spaces, joiners and marks ride along with their neighbours' face.
    return not (ch.isspace() or unicodedata.category(ch) in ("Mn", "Me", "Cf"))


def missing_glyphs(
    text: str, faces: Sequence[Face] = TITLE_FACES, font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS
) -> list[str]:
    """Characters of `text` that no face can draw (they would show as boxes)."""
    covered = [coverage(f, font_dirs) for f in faces]
    missing: list[str] = []
    for ch in text:
        if _needs_glyph(ch) and not any(ord(ch) in c for c in covered) and ch not in missing:
            missing.append(ch)
    return missing


@dataclass(frozen=True)
class Run:
    """Consecutive characters drawn with one face."""

    text: str
    face: Face


def split_runs(
    text: str, faces: Sequence[Face], font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS
) -> list[Run]:
    covered = [(f, coverage(f, font_dirs)) for f in faces]
    runs: list[Run] = []
    for ch in text:
        face = None
        if _needs_glyph(ch):
            face = next((f for f, c in covered if ord(ch) in c), faces[0])
        elif runs:
            face = runs[-1].face
        else:
            face = faces[0]
        if runs and runs[-1].face == face:
            runs[-1] = Run(runs[-1].text + ch, face)
        else:
            runs.append(Run(ch, face))
    return runs


# Break opportunities: spaces, and around each CJK character (no spaces between words there).
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_TOKENS = re.compile(rf"\s+|[{_CJK}]|[^\s{_CJK}]+")


@dataclass
class Line:
    runs: list[Run]
    width: float


@dataclass
class TextBlock:
    """A text laid out at one size: lines of runs, with the metrics to place them."""

    lines: list[Line]
    size: int
    ascent: int
    descent: int
    line_gap: int
    faces_used: list[str] = field(default_factory=list)

    @property
    def line_height(self) -> int:
        return self.ascent + self.descent + self.line_gap

    @property
    def height(self) -> int:
        if not self.lines:
            return 0
        return self.line_height * (len(self.lines) - 1) + self.ascent + self.descent

    @property
    def width(self) -> float:
        return max((line.width for line in self.lines), default=0.0)


def _width(runs: Sequence[Run], size: int, font_dirs: Sequence[Path]) -> float:
    return sum(font(r.face, size, font_dirs).getlength(r.text) for r in runs)


def _split_long(
    token: str, max_width: float, faces: Sequence[Face], size: int, font_dirs: Sequence[Path]
) -> list[str]:
    """A word wider than the line, cut between characters (marks stay with their base)."""
    pieces: list[str] = []
    current = ""
    for ch in token:
        trial = current + ch
        fits = _width(split_runs(trial, faces, font_dirs), size, font_dirs) <= max_width
        if current and not fits and unicodedata.category(ch) not in ("Mn", "Me"):
            pieces.append(current)
            current = ch
        else:
            current = trial
    if current:
        pieces.append(current)
    return pieces


def wrap(
    text: str,
    faces: Sequence[Face],
    size: int,
    max_width: float,
    font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS,
) -> list[Line]:
    """Greedy line breaking at spaces and CJK characters; overlong words are cut."""
    lines: list[str] = []
    current = ""
    for token in _TOKENS.findall(text):
        if token.isspace():
            if current:
                current += " "
            continue
        trial = current + token
        if _width(split_runs(trial.rstrip(), faces, font_dirs), size, font_dirs) <= max_width:
            current = trial
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = ""
        if _width(split_runs(token, faces, font_dirs), size, font_dirs) <= max_width:
            current = token
        else:
            *whole, current = _split_long(token, max_width, faces, size, font_dirs)
            lines.extend(whole)
    if current.strip():
        lines.append(current.rstrip())
    out = []
    for text_line in lines:
        runs = split_runs(text_line, faces, font_dirs)
        out.append(Line(runs, _width(runs, size, font_dirs)))
    return out


def layout(
    text: str,
    faces: Sequence[Face],
    size: int,
    max_width: float,
    font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS,
) -> TextBlock:
    lines = wrap(text, faces, size, max_width, font_dirs)
    used = [f for f in faces if any(r.face == f for line in lines for r in line.runs)] or [faces[0]]
    metrics = [font(f, size, font_dirs).getmetrics() for f in used]
    ascent = max(m[0] for m in metrics)
    descent = max(m[1] for m in metrics)
    return TextBlock(lines, size, ascent, descent, round(size * 0.12), [f.key for f in used])


@dataclass
class FittedText:
    title: TextBlock
    artist: TextBlock | None
    gap: int

    @property
    def height(self) -> int:
        return self.title.height + (self.gap + self.artist.height if self.artist else 0)

    @property
    def width(self) -> float:
        return max(self.title.width, self.artist.width if self.artist else 0.0)


ARTIST_SCALE = 0.5
MIN_TITLE_SIZE = 8


def fit_text(
    title: str,
    artist: str,
    max_width: int,
    max_height: int,
    *,
    start_size: int,
    preferred_height: int | None = None,
    font_dirs: Sequence[Path] = DEFAULT_FONT_DIRS,
) -> FittedText:
    """The largest title size (artist at half) whose wrapped block fits the box.

    First tries to keep the block within `preferred_height` (a cover is
    mostly picture); a long title may then take the whole box. Sizes shrink
    until the block fits, so no accepted text is ever cut off.
    """
    limits = [h for h in (preferred_height, max_height) if h]
    size = start_size
    for limit in limits:
        size = start_size
        while size >= MIN_TITLE_SIZE:
            fitted = _fit_at(title, artist, size, max_width, font_dirs)
            if fitted.height <= limit and fitted.width <= max_width:
                return fitted
            if limit != max_height and size < start_size * 0.45:
                break  # too small for the preferred band: use the whole box instead
            size = max(MIN_TITLE_SIZE - 1, int(size * 0.93))
    return _fit_at(title, artist, MIN_TITLE_SIZE, max_width, font_dirs)


def _fit_at(
    title: str, artist: str, size: int, max_width: int, font_dirs: Sequence[Path]
) -> FittedText:
    title_block = layout(title, TITLE_FACES, size, max_width, font_dirs)
    artist_block = None
    if artist:
        artist_size = max(MIN_TITLE_SIZE, round(size * ARTIST_SCALE))
        artist_block = layout(artist, BODY_FACES, artist_size, max_width, font_dirs)
    return FittedText(title_block, artist_block, round(size * 0.35))
