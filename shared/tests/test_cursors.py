"""skyras.cursors: a page's cursor comes back as the keys it was made from; junk is refused."""

import pytest

from skyras import cursors


def test_a_cursor_is_url_safe_and_round_trips() -> None:
    keys = {"t": "2026-12-03T17:00:00+00:00", "id": "0193a0c4-…", "k": ["~?&/"]}
    cursor = cursors.encode(keys)
    assert cursors.decode(cursor) == keys
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("junk", ["", "%%%", "bm90IGpzb24", "////"])
def test_what_no_page_returned_is_an_invalid_cursor(junk: str) -> None:
    with pytest.raises(cursors.InvalidCursor):
        cursors.decode(junk)
