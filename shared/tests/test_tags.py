"""The one tag rule Marcus and Letitia share: the same text gives the same tag in both."""

import pytest

from skyras_letitia.models import normalize_tags as file_tags
from skyras_marcus.models import normalize_tags as task_tags


@pytest.mark.parametrize(
    "raw, expected",
    [
        (["  Night  Drive ", "night drive", "FINAL"], ["night drive", "final"]),
        ("vocals, Stems ,,", ["vocals", "stems"]),
        (["master:podcast", "café"], ["master:podcast", "café"]),
    ],
)
def test_tasks_and_files_store_a_tag_the_same_way(raw: object, expected: list[str]) -> None:
    assert task_tags(raw) == file_tags(raw) == expected


@pytest.mark.parametrize("bad", [["a/b"], ["bell\x07"], ["x" * 51], [3]])
def test_both_refuse_the_same_bad_tags(bad: list[object]) -> None:
    with pytest.raises(ValueError):
        task_tags(bad)
    with pytest.raises(ValueError):
        file_tags(bad)
