"""Copy within every platform's limit, for short and long (the longest accepted) releases.

Lengths are counted here the way each platform documents it, not with
Giorgio's counters: code points (NFC) for most; X's weighted count
(twitter-text v3: U+0000-U+10FF and three punctuation ranges weigh 1, the
rest 2, a URL 23); Mastodon's (a URL 23).
"""

import re
import unicodedata

import pytest

from skyras_giorgio import copytext
from skyras_giorgio.models import Release

LIMITS = {
    "x": 280,
    "bluesky": 300,
    "mastodon": 500,
    "threads": 500,
    "instagram": 2200,
    "tiktok": 2200,
    "linkedin": 3000,
    "facebook": 63206,
    "description": 4000,
    "show_notes": 4000,
}
URL = re.compile(r"https?://\S+")


def counted(platform: str, text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    urls = URL.findall(text)
    rest = URL.sub("", text)
    if platform == "x":
        light = [(0, 4351), (8192, 8205), (8208, 8223), (8242, 8247)]
        weight = sum(1 if any(a <= ord(c) <= b for a, b in light) else 2 for c in rest)
        return weight + 23 * len(urls)
    if platform == "mastodon":
        return len(rest) + 23 * len(urls)
    return len(text)


SHORT = Release(title="Dawn", artist="Mo")
TYPICAL = Release(
    title="Night Drive",
    artist="Aurora Lane",
    description="A late-night ride through neon streets, recorded in one take.",
    genre="synthwave",
    label="Skyras Records",
    release_date="2026-03-05",
    tracks=["Night Drive", "Tunnel Lights", "Exit 9"],
    link="https://example.org/night-drive",
    hashtags=["synthwave", "#retrowave"],
)
LONGEST = Release(
    title=" ".join(["Extraordinary"] * 14)[:200],
    artist="A" * 100,
    description=("Every word of this description is long enough to matter. " * 40)[:2000],
    genre="g" * 50,
    label="L" * 100,
    release_date="2026-12-31",
    tracks=["T" * 200] * 50,
    link="https://example.org/" + "p" * 470,
    hashtags=["h" * 50] * 10,
)
CJK_LONGEST = Release(
    title="夜" * 200, artist="光" * 100, description="雨の匂い。" * 400, tracks=["東京" * 100] * 50
)


@pytest.mark.parametrize(
    "release",
    [SHORT, TYPICAL, LONGEST, CJK_LONGEST],
    ids=["short", "typical", "longest", "cjk-longest"],
)
def test_every_piece_is_within_its_platform_limit(release: Release) -> None:
    copy = copytext.render_all(release.model_dump(mode="json"), list(copytext.PLATFORMS))
    pieces = {
        "description": copy["description"],
        "show_notes": copy["show_notes"],
        **copy["social"],
    }
    assert set(pieces) == set(LIMITS)
    for name, text in pieces.items():
        assert text.strip(), name
        assert counted(name, text) <= LIMITS[name], (name, counted(name, text))
    # The shortest copy still names the release.
    assert all(release.title[:20] in text for text in pieces.values())


def test_short_inputs_are_not_padded_and_typical_ones_keep_their_facts() -> None:
    short = copytext.render_all(SHORT.model_dump(mode="json"), ["x"])
    typical = copytext.render_all(TYPICAL.model_dump(mode="json"), ["x", "instagram"])
    assert short["social"]["x"] == 'New: "Dawn" by Mo.\n\n#Dawn #Mo'
    assert "out March 5, 2026 on Skyras Records" in typical["description"]
    assert (
        "2. Tunnel Lights" in typical["description"]
        and "https://example.org/night-drive" in typical["social"]["x"]
    )
    assert "#synthwave #retrowave" in typical["social"]["instagram"]


def test_a_description_is_shortened_at_a_word_before_anything_is_cut() -> None:
    release = TYPICAL.model_copy(update={"description": "word " * 399 + "end"})
    x = copytext.render_all(release.model_dump(mode="json"), ["x"])["social"]["x"]
    assert x.startswith('New synthwave: "Night Drive" by Aurora Lane, out March 5, 2026.')
    assert "word…" in x and "https://example.org/night-drive" in x
    assert counted("x", x) <= 280


def test_the_same_metadata_gives_the_same_copy() -> None:
    first = copytext.render_all(LONGEST.model_dump(mode="json"), list(copytext.PLATFORMS))
    again = copytext.render_all(LONGEST.model_dump(mode="json"), list(copytext.PLATFORMS))
    assert first == again
