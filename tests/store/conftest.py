"""The machine's real PostgreSQL for the store's tests, as the scale-out tests have it."""

from tests.distributed.conftest import postgres  # noqa: F401  (the fixture, under its name)
