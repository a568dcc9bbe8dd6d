"""SkyRas operator: watches `Agent` resources (skyras.io/v1alpha1) and turns
each into a Deployment and a Service, registers its routes with the hub and
scales it from the consumer lag of its event group.

Layout: `main` wires the handlers and the startup/cleanup of clients,
`handlers.agent` reacts to Agents (and their Deployments), `builders` and
`scaling` are pure functions (most tests live there), `hub` is the registry
client, `lag` reads consumer lag from Redis, `kube` wraps the API calls,
`config` reads settings from the environment, `constants` names things.
"""

__version__ = "0.1.0"
