"""Makes this service folder a package, so its tests import as `jamal.tests` and never
clash with the other services' `tests` or the repository's `tests/`."""
