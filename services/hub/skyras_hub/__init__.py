"""The SkyRas hub: one door to every agent (registry, proxy, events, chat)."""

__version__ = "0.1.0"
