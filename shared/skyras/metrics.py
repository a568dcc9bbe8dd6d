"""Prometheus metrics every service exposes on /metrics.

Defined once here so that names and labels agree across services; the hub
adds its proxy metrics in its own module.
"""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "skyras_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "skyras_http_request_duration_seconds",
    "Time to serve an HTTP request (until the response starts)",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

EVENTS_PUBLISHED = Counter(
    "skyras_events_published_total", "Events relayed from the outbox to Redis", ["channel"]
)
EVENTS_CONSUMED = Counter(
    "skyras_events_consumed_total", "Events handled by a consumer", ["group", "type", "outcome"]
)
EVENTS_DEADLETTERED = Counter(
    "skyras_events_deadlettered_total", "Events moved to the dead-letter stream", ["group", "type"]
)
RELAY_DELAY = Histogram(
    "skyras_relay_delay_seconds",
    "Time from an event's commit to its publication on Redis",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
)
CONSUMER_LAG = Gauge(
    "skyras_consumer_lag",
    "Entries a consumer group has still to handle (not delivered, or not acknowledged)",
    ["group", "stream"],
)
