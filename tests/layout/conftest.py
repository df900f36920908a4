"""The state stores of tests/storage (real Redis, SQLite, PostgreSQL), for the key tests."""

from tests.storage.conftest import store

__all__ = ["store"]
