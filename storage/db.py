"""Engines, migrations and generated secrets for the SQL database (SQLite or PostgreSQL).

``migrate`` runs Alembic ``upgrade head`` from code against the migrations shipped inside the
package, so an installed wheel needs no ``alembic.ini`` in the working directory.
"""

from __future__ import annotations

import ast
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, exc, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from dialogs.errors import StorageError
from storage.models import AppSecretRow

if TYPE_CHECKING:
    from alembic.config import Config

_HERE = Path(__file__).resolve().parent
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
# Any 64-bit number, the same in every process: serialises concurrent migrations on PostgreSQL.
_MIGRATION_LOCK = 0x6F6E626F617264


def async_url(url: str) -> str:
    """``url`` with the async driver: ``sqlite://`` -> aiosqlite, ``postgresql://`` -> asyncpg."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgres":  # the Heroku-style alias
        backend = "postgresql"
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Pooling:
    """How a worker uses PostgreSQL: at most ``size`` connections (half in SQLAlchemy's pool,
    half in the hot statements' asyncpg pool, ``storage.hot_sql``), and whether a pooler in
    transaction mode (PgBouncer's ``pool_mode = transaction``) sits in between.

    Behind such a pooler consecutive transactions of one client connection may run on
    different server connections, so no prepared statement may outlive its transaction:
    asyncpg's statement cache is off, SQLAlchemy's dialect names each statement uniquely
    (two clients sharing a server connection never collide), and the hot path runs each
    statement in a transaction of its own (see :class:`storage.hot_sql.AsyncpgPath`)."""

    mode: Literal["session", "transaction"] = "session"
    size: int = 32

    @property
    def transaction(self) -> bool:
        return self.mode == "transaction"

    @property
    def hot_size(self) -> int:
        return self.size - self.size // 2

    def engine_options(self) -> dict[str, Any]:
        engine_share = self.size // 2
        options: dict[str, Any] = {
            "pool_size": engine_share // 2,
            "max_overflow": engine_share - engine_share // 2,
        }
        if self.transaction:
            options["connect_args"] = self.connect_args()
        return options

    def connect_args(self) -> dict[str, Any]:
        """What SQLAlchemy's asyncpg dialect is given (the hot path translates)."""
        if not self.transaction:
            return {}
        return {
            "statement_cache_size": 0,  # asyncpg's own cache
            "prepared_statement_cache_size": 0,  # the dialect's cache
            "prepared_statement_name_func": _unique_statement_name,
        }


def _unique_statement_name() -> str:
    return f"__onboard_{uuid.uuid4().hex}__"


def create_engine(url: str, pooling: Pooling | None = None, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for ``url`` (plain ``sqlite:///x.db`` / ``postgresql://`` accepted);
    on PostgreSQL its pool follows ``pooling`` (default: 16 of a worker's 32 connections:
    PostgreSQL's default of 100 connections serves three workers)."""
    full_url = async_url(url)
    if full_url.startswith("postgresql"):
        kwargs = {**(pooling or Pooling()).engine_options(), **kwargs}
    engine = create_async_engine(full_url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    try:
        from storage.sqlite import configure_sqlite  # noqa: PLC0415 - optional module
    except ImportError:
        return
    configure_sqlite(engine)


def alembic_config() -> Config:
    """The Alembic configuration of the packaged migrations (no file in the CWD needed).

    Alembic is imported here, not at the top: a worker whose supervisor migrated never loads
    it (~10 MB of a worker's memory)."""
    from alembic.config import Config  # noqa: PLC0415

    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    return config


def _upgrade(connection: Connection, config: Config) -> None:
    from alembic import command  # noqa: PLC0415

    config.attributes["connection"] = connection
    command.upgrade(config, "heads")  # every branch: features may add migrations side by side


async def _lock_migrations(connection: AsyncConnection) -> None:
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})


async def migrate(engine_or_url: AsyncEngine | str) -> None:
    """Bring the schema to the newest revision; a no-op when it already is there."""
    if isinstance(engine_or_url, str):
        engine = create_engine(engine_or_url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()
        return
    try:
        async with engine_or_url.begin() as connection:
            await _lock_migrations(connection)
            await connection.run_sync(_upgrade, alembic_config())
    except (OSError, exc.DBAPIError) as error:
        where = engine_or_url.url.render_as_string(hide_password=True)
        reason = getattr(error, "orig", None) or error
        raise StorageError(f"cannot use the database {where}: {reason}") from None


def dialect_insert(
    connection: AsyncConnection | Connection, table: Any
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``on_conflict_*`` for the connection's dialect (SQLite or PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def get_or_create_secret(engine: AsyncEngine, name: str) -> str:
    """The secret called ``name``; created at random on first use. Safe when several processes
    start at once: the first insert wins and everybody reads the winner."""
    async with engine.begin() as connection:
        insert = dialect_insert(connection, AppSecretRow).values(
            name=name, value=secrets.token_urlsafe(32)
        )
        await connection.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
        value = await connection.scalar(select(AppSecretRow.value).where(AppSecretRow.name == name))
    if value is None:  # pragma: no cover - the row was inserted or already there
        raise RuntimeError(f"secret {name!r} could not be stored")
    return value


def expected_heads() -> frozenset[str]:
    """The head revisions of the packaged migrations, read from the files themselves (no
    Alembic import: a worker never loads it)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (_HERE / "migrations" / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign | ast.Assign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                ids = {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
                if "revision" in names:
                    revisions.update(str(i) for i in ids if i)
                elif "down_revision" in names:
                    parents.update(str(i) for i in ids if i)
    return frozenset(revisions - parents)


async def schema_problem(engine: AsyncEngine) -> str | None:
    """None when the database is reachable and migrated to every head; else what is wrong
    (raises nothing: the readiness probe reports it)."""
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            applied = frozenset(result.scalars())
    except (OSError, exc.SQLAlchemyError) as error:
        return f"database unreachable or not migrated ({type(error).__name__})"
    missing = sorted(expected_heads() - applied)
    return f"migrations not at head (missing {', '.join(missing)})" if missing else None
