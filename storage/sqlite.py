"""SQLite as our embedded store needs it: WAL, a busy timeout, and ``BEGIN IMMEDIATE`` for
writes so writers queue instead of failing "database is locked" (:func:`configure_sqlite`)."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine

NO_BEGIN = "onboard_sqlite_no_begin"
"""Execution option read by the SQLite ``begin`` hook: run without a transaction."""


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Take BEGIN away from the driver (we emit it), set a busy timeout, then WAL."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=5000")
        _enable_wal(cursor)
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL unless it already is, tolerating a racing switch.

    WAL is a property of the file. Switching needs an exclusive lock, and SQLite refuses
    it at once (no busy wait) while another process is switching too. The read first
    waits out such a switch (busy_timeout) and makes the connection notice a file already
    in WAL; if our own switch still loses the race, the winner's WAL applies to this
    connection from its next transaction. Correctness never depends on WAL (writers are
    serialised by BEGIN IMMEDIATE either way), only reader/writer concurrency does.
    """
    cursor.execute("SELECT count(*) FROM sqlite_master")
    cursor.fetchone()
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise


def _sqlite_on_begin(conn: Connection) -> None:
    """Writers take the write lock up front, so they wait on busy_timeout in order.

    A deferred BEGIN that later upgrades to a write lock fails at once with SQLITE_BUSY
    when another writer got in first; BEGIN IMMEDIATE makes the wait happen at BEGIN.
    """
    if not conn.get_execution_options().get(NO_BEGIN, False):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def configure_sqlite(engine: AsyncEngine) -> None:
    """Install the SQLite transaction recipe on ``engine`` (idempotent).

    Call it before the engine opens its first connection.
    """
    sync_engine = engine.sync_engine
    if sync_engine.dialect.name != "sqlite":
        raise ValueError(f"not a SQLite engine: {sync_engine.dialect.name}")
    if event.contains(sync_engine, "connect", _sqlite_on_connect):
        return
    event.listen(sync_engine, "connect", _sqlite_on_connect)
    event.listen(sync_engine, "begin", _sqlite_on_begin)
