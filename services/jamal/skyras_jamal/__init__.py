"""Jamal, the SkyRas agent for distribution: releases, the podcast feed, webhooks, buckets."""

__version__ = "0.1.0"
