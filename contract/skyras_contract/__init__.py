"""The Agent contract, written once: what the shared library (hence the hub,
the agents and the local runner) and the operator must agree on.

Standard library only, so the operator's image carries it without the
library's web stack (`make lint` checks that it imports no web framework):
- `streams`: event type -> channel, and the Redis stream and channel keys;
- `lag`: how much work a consumer group still has (its autoscaling signal);
- `images`: an agent's version, read from its image reference.
"""
