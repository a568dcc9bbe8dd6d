"""The hub's Prometheus metrics, defined once (the shared HTTP metrics are in skyras.metrics).

Filled by the proxy, the SSE stream, auth, the rate limiter and chat; read
through `/metrics`. Labels stay bounded: `agent` is only ever a registered
agent's name and `route` a declared route template, never raw request input.
"""

from prometheus_client import Counter, Gauge, Histogram

PROXY_REQUESTS = Counter(
    "skyras_hub_proxy_requests_total",
    "Requests forwarded to agents, by the agent's response status",
    ["agent", "route", "method", "status"],
)
PROXY_LATENCY = Histogram(
    "skyras_hub_proxy_duration_seconds",
    "Time from forwarding a request to the agent's response headers",
    ["agent", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PROXY_ERRORS = Counter(
    "skyras_hub_proxy_errors_total",
    "Forwarding failures by kind (connect, timeout, protocol, circuit_open, ...)",
    ["agent", "kind"],
)
CIRCUIT_STATE = Gauge(
    "skyras_hub_circuit_state",
    "Circuit breaker per agent: 0 closed, 1 half-open, 2 open",
    ["agent"],
)
SSE_CLIENTS = Gauge("skyras_hub_sse_clients", "Clients connected to /api/v2/events/stream")
SSE_DROPPED = Counter(
    "skyras_hub_sse_dropped_clients_total", "SSE clients disconnected for falling behind"
)
REGISTERED_AGENTS = Gauge("skyras_hub_registered_agents", "Agents in this hub's registry cache")
AUTH_FAILURES = Counter("skyras_hub_auth_failures_total", "Requests refused by auth", ["reason"])
RATE_LIMITED = Counter(
    "skyras_hub_rate_limited_total", "Requests refused by the rate limiter (429)"
)
CHAT_MESSAGES = Counter(
    "skyras_hub_chat_messages_total",
    "Chat messages by the agent they went to and how it was chosen",
    ["agent", "how"],
)
