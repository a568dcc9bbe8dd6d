"""SkyRas v2 shared library.

Every service imports what it needs from here, once: settings, the Postgres
pool and migrations, the event envelope and bus, the Redis client, and the
FastAPI app factory. The `skyras` command (cli.py) and the local runner live
here too, since they drive the same pieces.
"""

__version__ = "0.1.0"
