"""Adapters for the outside services Marcus talks to (Cal.com, Plane, n8n); each is off until configured."""
