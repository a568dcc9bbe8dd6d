"""Ari, the SkyRas agent for audio finishing: loudness analysis and mastering."""

__version__ = "0.1.0"
