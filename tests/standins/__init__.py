"""Local stand-in servers for outside services, speaking their published wire contracts."""
