"""Backoff: the one exponential delay with jitter every retry loop uses.

Delays double from `first` up to `cap`. Jitter takes up to `jitter` (a
fraction, 20% by default) off each delay at random, so pods that failed
together (Redis restarted, a webhook receiver down) do not retry in step;
a delay is never longer than the loop waited before this helper existed, and
never above `cap`.

Why not tenacity: our loops are not "call f until it works". The relay, the
consumer, the hub's live subscription and the app's worker supervisor run
for ever and start over at `first` after a success; webhook and Plane
deliveries let a server's Retry-After win over the computed delay. What they
share is the delay, which is all this is (tenacity's `wait_exponential_jitter`
is the same formula). No dependencies: the operator's image may import it.
"""

import random
from collections.abc import Callable


class Backoff:
    """`next()` is the wait after one more failure; `reset()` after a success."""

    def __init__(
        self,
        first: float,
        cap: float,
        *,
        factor: float = 2.0,
        jitter: float = 0.2,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if first < 0 or cap < 0 or factor < 1 or not 0 <= jitter < 1:
            raise ValueError("backoff needs first, cap >= 0, factor >= 1 and 0 <= jitter < 1")
        self.first, self.cap, self.factor, self.jitter = first, cap, factor, jitter
        self._rand = rand
        self._failures = 0

    def delay(self, failures: int) -> float:
        """The wait after `failures` failures in a row (1 → about `first`), jittered."""
        base = min(self.first * self.factor ** min(max(failures - 1, 0), 64), self.cap)
        return base * (1 - self.jitter * self._rand())

    def next(self) -> float:
        self._failures += 1
        return self.delay(self._failures)

    def reset(self) -> None:
        self._failures = 0
