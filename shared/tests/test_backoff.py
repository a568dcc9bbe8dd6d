"""skyras.backoff: doubling delays up to a cap, jittered shorter, restarted after a success."""

import pytest

from skyras.backoff import Backoff


def test_delays_double_to_the_cap_and_start_over_after_a_reset() -> None:
    steady = Backoff(0.2, 5.0, jitter=0)
    assert [round(steady.next(), 3) for _ in range(7)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    steady.reset()
    assert steady.next() == 0.2


def test_jitter_only_shortens_a_delay_within_its_fraction() -> None:
    lowest, highest = Backoff(1.0, 60.0, rand=lambda: 0.999), Backoff(1.0, 60.0, rand=lambda: 0.0)
    assert [highest.delay(n) for n in (1, 4, 10)] == [1.0, 8.0, 60.0]
    assert all(0.8 < lowest.delay(n) / highest.delay(n) <= 1 for n in (1, 4, 10))
    spread = {round(Backoff(1.0, 60.0).delay(3), 6) for _ in range(50)}
    assert len(spread) > 1 and all(3.2 <= d <= 4.0 for d in spread)


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(1.0, 5.0, jitter=1.5)
