"""Makes this service folder a package, so its tests import as `marcus.tests` and never
clash with the other services' `tests` or the repository's `tests/`."""
