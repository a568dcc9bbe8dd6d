"""Letitia, the SkyRas agent for the asset library: uploads, tags and search."""

__version__ = "0.1.0"
