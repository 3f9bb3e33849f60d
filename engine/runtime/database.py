"""The database a command works on: where it is, and what a command leaves behind.

`sqlite:///seqengine.db` is relative to the current folder, so the commands say
which file they use (absolute path). A command that only reads needs the file to
exist; a command that fails on a file it has just created removes it again, so a
mistyped --db leaves nothing behind.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.app.ports import Store
from engine.errors import EngineError
from engine.runtime.settings import open_store


class DatabaseError(ValueError):
    """The database is missing, or a command failed on a database it has just made."""


@dataclass(frozen=True, slots=True)
class Database:
    url: str
    path: Path | None  # the SQLite file (absolute), None for other kinds
    existed: bool

    @classmethod
    def locate(cls, url: str) -> "Database":
        if not url.startswith("sqlite:"):
            return cls(url, None, url != "memory")
        from engine.adapters.storage.sqlite_database import sqlite_path

        path = Path(sqlite_path(url)).absolute()
        return cls(url, path, path.exists())

    def describe(self) -> str:
        """The absolute file path for SQLite, the URL otherwise."""
        return str(self.path) if self.path is not None else self.url

    def remove_if_new(self) -> None:
        if self.path is None or self.existed:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


@contextmanager
def opened(url: str, *, must_exist: bool = False) -> Iterator[Store]:
    """The store for one command, closed at the end. `must_exist` (commands that only
    read, or change what must be there): opening would otherwise create an empty file."""
    database = Database.locate(url)
    if must_exist and database.path is not None and not database.existed:
        raise DatabaseError(
            f"there is no database at {database.path}: pass --db (or SEQENGINE_DB), "
            "or create one with `seqengine demo` or `seqengine db upgrade`"
        )
    store = open_store(url)
    try:
        yield store
    except EngineError as error:
        close(store)
        if database.path is None or database.existed:
            raise
        database.remove_if_new()
        raise DatabaseError(
            f"{error.message} in {database.path}, a new empty database, so nothing was kept "
            "(is --db right? a relative path depends on the current folder)"
        ) from error
    except BaseException:
        close(store)
        database.remove_if_new()
        raise
    close(store)


def upgrade(url: str) -> str:
    """Create or migrate the schema; says what it did."""
    database = Database.locate(url)
    if database.path is None:
        close(open_store(url))
        return f"schema ready on {database.describe()}"
    from engine.adapters.storage.sqlite import SqliteStore

    with SqliteStore(str(database.path), migrate_schema=False) as store:
        before = store.schema_version()
        after = store.migrate()
    if before == 0:
        return f"created schema version {after} in {database.path}"
    if before == after:
        return f"up to date at version {after} in {database.path}"
    return f"upgraded from version {before} to {after} in {database.path}"


def newest_instant(store: Store) -> datetime | None:
    """The latest instant the database records, where the backend can tell."""
    from engine.adapters.storage.sqlite import SqliteStore

    return store.newest_instant() if isinstance(store, SqliteStore) else None


def close(store: object) -> None:
    closer = getattr(store, "close", None)
    if closer is not None:
        closer()
