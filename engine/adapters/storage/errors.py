"""The storage backends' one error: the database could not do what was asked.

Backends translate their driver's exceptions (sqlite3.Error, psycopg.Error)
into this, chained to the original, so callers above the adapters only ever
see EngineError subclasses."""

from engine.errors import EngineError


class StorageError(EngineError):
    """The database is unavailable, locked past the busy timeout, full or damaged."""

    status, code = 503, "storage_unavailable"


class StorageConflict(StorageError):
    """A transaction lost a race (serialization failure, deadlock, lock timeout):
    nothing was changed, and running it again at once is the cure."""
