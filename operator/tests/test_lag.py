"""lag: which streams an agent reads and how XINFO GROUPS' answers add up
(the operator's view of skyras_contract, which its image carries)."""

from __future__ import annotations

import pytest

from skyras_contract import lag, streams


@pytest.mark.parametrize(
    ("event_type", "channel"),
    [
        ("task.created", "tasks"),
        ("file.uploaded", "files"),
        ("audio.mastered", "system"),
        ("task.*", "tasks"),
    ],
)
def test_event_types_map_to_channels(event_type: str, channel: str) -> None:
    assert streams.channel_for_type(event_type) == channel


def test_streams_are_one_per_channel() -> None:
    assert streams.streams_for(["file.uploaded", "file.tagged", "audio.mastered"]) == [
        "skyras:stream:files",
        "skyras:stream:system",
    ]
    assert streams.streams_for([]) == []


GROUPS = [
    {
        "name": "marcus",
        "consumers": 1,
        "pending": 2,
        "last-delivered-id": "1-0",
        "entries-read": 5,
        "lag": 7,
    },
    {
        "name": b"letitia",
        "consumers": 1,
        "pending": 0,
        "last-delivered-id": "1-0",
        "entries-read": 5,
        "lag": 3,
    },
    {
        "name": "ari",
        "consumers": 0,
        "pending": 0,
        "last-delivered-id": "0-0",
        "entries-read": None,
        "lag": None,
    },
]


def test_group_lag_is_the_groups_own_undelivered_plus_unacknowledged() -> None:
    assert lag.group_lag(GROUPS, "marcus", stream_length=100) == 7 + 2
    assert lag.group_lag(GROUPS, "letitia", stream_length=100) == 3


def test_unknown_lag_counts_the_whole_stream() -> None:
    assert lag.group_lag(GROUPS, "ari", stream_length=100) == 100


def test_a_group_not_created_yet_has_no_lag() -> None:
    assert lag.group_lag(GROUPS, "giorgio", stream_length=100) == 0
