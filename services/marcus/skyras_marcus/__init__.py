"""Marcus, the SkyRas agent for tasks and scheduling."""

__version__ = "0.1.0"
