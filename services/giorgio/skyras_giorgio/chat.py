"""Giorgio's deterministic understanding of plain-language requests.

"@giorgio make a cover for Night Drive, neon", "write copy for "Blue Hour" by
Mila", "release kit for Night Drive by Aurora Lane, sunset, seed 7", "which
palettes". `understand` turns a message into a request (or says what is
missing); the route runs it like `POST /api/generate`. The same parser reads
the title and description of a task assigned to Giorgio (`handlers`).
"""

import re
from dataclasses import dataclass
from typing import Any

from skyras_giorgio.palettes import PALETTES
from skyras_giorgio.specs import VARIANTS

_ART = re.compile(r"\b(cover|covers|artwork|art|image|images|picture|sleeve)\b", re.I)
_COPY = re.compile(
    r"\b(copy|caption|captions|post|posts|description|blurb|tweet|show notes)\b", re.I
)
_KIT = re.compile(r"\b(kit|everything|both)\b|\bcover and copy\b|\bart(work)? and copy\b", re.I)
_SEED = re.compile(r"\bseed\s*[:=]?\s*(\d{1,10})\b", re.I)
_QUOTED = re.compile(r"[\"“”«»„](.+?)[\"“”«»„]")
_FOR = re.compile(r"\bfor\s+([^\n]+)", re.I)
_BY = re.compile(r"\bby\s+([^\n]+)", re.I)
# Where a title or an artist name ends: a comma, or the start of a style/seed phrase.
_STOP = re.compile(
    r"\s*(,|;|\bby\b|\bin\b\s+(?:a\s+)?(?:"
    + "|".join(PALETTES)
    + r")\b|\bwith\b|\busing\b|\bstyle\b|\bpalette\b|\bseed\b|$)",
    re.I,
)
_MENTION = re.compile(r"@giorgio\b[:,]?\s*", re.I)


@dataclass
class Intent:
    kind: str | None  # None: not a generation (a question, or nothing understood)
    title: str
    artist: str
    palette: str | None
    seed: int | None
    variants: list[str] | None = None

    def request_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": self.kind,
            "release": {"title": self.title, "artist": self.artist},
        }
        if self.palette:
            body["palette"] = self.palette
        if self.seed is not None:
            body["seed"] = self.seed
        if self.variants:
            body["variants"] = self.variants
        return body


def _until_stop(text: str) -> str:
    match = _STOP.search(text)
    return text[: match.start()].strip(" .!?:") if match else text.strip(" .!?:")


def understand(message: str) -> Intent:
    text = _MENTION.sub("", message).strip()
    kit, art, copy = bool(_KIT.search(text)), bool(_ART.search(text)), bool(_COPY.search(text))
    kind = (
        "release_kit" if kit or (art and copy) else "artwork" if art else "copy" if copy else None
    )
    palette = next((p for p in PALETTES if re.search(rf"\b{p}\b", text, re.I)), None)
    seed_match = _SEED.search(text)
    seed = int(seed_match[1]) if seed_match and int(seed_match[1]) < 2**32 else None
    quoted = _QUOTED.search(text)
    if quoted:
        title = quoted[1].strip()
        after = text[quoted.end() :]
    else:
        found = _FOR.search(text)
        title = _until_stop(found[1]) if found else ""
        after = found[1][len(title) :] if found else ""
    by = _BY.search(after)
    artist = _until_stop(by[1]) if by else ""
    variants = None
    if re.search(r"\bpodcast\b", text, re.I) and kind == "artwork":
        variants = ["podcast"]
    elif re.search(r"\b(story|stories|reel)\b", text, re.I) and kind == "artwork":
        variants = ["social_story"]
    if variants is not None and variants[0] not in VARIANTS:  # pragma: no cover
        variants = None
    return Intent(kind, title, artist, palette, seed, variants)


HELP = (
    'Ask me for a cover, copy or both: "@giorgio make a cover for "Night Drive" by Aurora Lane, '
    f'neon". Palettes: {", ".join(PALETTES)}. Add "seed 7" for another composition.'
)
