"""The machine's real PostgreSQL for the resume tests, as the scale-out tests have it."""

from tests.distributed.conftest import pg_url, postgres  # noqa: F401  (the fixtures, by name)
