"""Makes shared/ a package, so its tests import as `shared.tests`, apart from the repository's `tests/`."""
