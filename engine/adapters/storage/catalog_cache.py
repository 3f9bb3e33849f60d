"""A per-process copy of the catalog (accounts, users, API tokens, sequences), valid
for one catalog version.

The database keeps one number, the catalog version, that triggers bump in the same
transaction as every insert, update or delete of those four tables; so two snapshots
with the same version hold the same catalog, whichever process wrote it. A unit of
work reads the version once per transaction (one cheap statement) and then serves
catalog reads from here while the cache is at that version, loading and keeping what
it misses. A transaction that writes the catalog stops using the cache (its own
uncommitted version is newer) and never fills it. Several threads share the cache: a
transaction at an older version than the cache's reads around it, a newer one
empties it.

Objects are handed out as copies (use cases change the ones they read); unknown
tokens are not remembered (a stream of made-up tokens would grow the cache without
bound), and the cache empties itself past a size cap.
"""

import threading
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar

from engine.domain.account import Account, ApiToken, User
from engine.domain.sequence import Sequence

T = TypeVar("T")
MAX_ENTRIES = 20_000  # per process, all kinds together; past it the cache starts over


def _copier(cls: type[T]) -> Callable[[T], T]:
    """A shallow copy through the constructor (faster than copy.copy on slots)."""
    fields = attrgetter(*cls.__dataclass_fields__)  # type: ignore[attr-defined]

    def copy(obj: T) -> T:
        return cls(*fields(obj))

    return copy


COPY: dict[str, Callable[[Any], Any]] = {
    "account": _copier(Account),
    "user": _copier(User),
    "token": _copier(ApiToken),
    "sequence": _copier(Sequence),
}
MISSING = object()
UNCHECKED = object()  # a transaction that has not read the catalog version yet


class CatalogCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (version, entries) swapped as one: a reader never sees one version's entries
        # under another's number
        self._state: tuple[int, dict[tuple[str, Any], Any]] = (-1, {})

    @property
    def version(self) -> int:
        return self._state[0]

    def seen(self, version: int) -> None:
        """A transaction read `version`: a newer one than the cache's empties it."""
        if version > self._state[0]:
            with self._lock:
                if version > self._state[0]:
                    self._state = (version, {})

    def get(self, version: int | None, kind: str, key: Any) -> Any:
        """The cached object (a copy; None if known not to exist), or MISSING."""
        at, entries = self._state
        if version is None or version != at:
            return MISSING
        found = entries.get((kind, key), MISSING)
        if found is MISSING or found is None:
            return found
        return COPY[kind](found)

    def put(self, version: int | None, kind: str, key: Any, value: Any) -> None:
        """Keep what a transaction at `version` read (a copy), if the cache is at it."""
        if version is None:
            return
        with self._lock:
            at, entries = self._state
            if version != at:
                return
            if len(entries) >= MAX_ENTRIES:
                entries.clear()
            entries[kind, key] = None if value is None else COPY[kind](value)

    def clear(self) -> None:
        with self._lock:
            self._state = (-1, {})


class CatalogReads:
    """The catalog reads of a unit of work (SQLite's and PostgreSQL's), through its
    store's cache. The unit provides `_store.catalog`, `_row(name, params)`, its
    backend's `_codec`, and `_catalog_at`: UNCHECKED until the transaction reads the
    version, then that version, or None for a transaction that must not use the cache
    (it wrote the catalog, or must lock what it reads)."""

    _store: Any
    _codec: Any
    _catalog_at: object

    def _row(self, name: str, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _catalog_version(self) -> int | None:
        at = self._catalog_at
        if at is UNCHECKED:
            row = self._row("catalog_version", {})
            at = self._catalog_at = None if row is None else int(row["version"])
            if at is not None:
                self._store.catalog.seen(at)
        return at  # type: ignore[return-value]

    def _catalog(self, kind: str, key: Any, name: str, params: dict[str, Any],
                 decode: Callable[[Any], T], *, remember_missing: bool = True) -> T | None:
        """A cache miss (or a transaction that reads around the cache): the row at this
        transaction's snapshot, kept for the others at its version."""
        version = self._catalog_version()
        row = self._row(name, params)
        value = None if row is None else decode(row)
        if value is not None or remember_missing:
            self._store.catalog.put(version, kind, key, value)
        return value

    # Each read tries the cache first and builds its statement's parameters only on a
    # miss: a hit is a version compare, one dict lookup and a copy.

    def _cached(self, kind: str, key: Any) -> Any:
        return self._store.catalog.get(self._catalog_version(), kind, key)

    def get_account(self, account_id: int) -> Account | None:
        found = self._cached("account", account_id)
        return found if found is not MISSING else self._catalog(
            "account", account_id, "get_account", {"id": account_id}, self._codec.account_from)

    def get_user(self, user_id: int) -> User | None:
        found = self._cached("user", user_id)
        return found if found is not MISSING else self._catalog(
            "user", user_id, "get_user", {"id": user_id}, self._codec.user_from)

    def get_token(self, token_hash: str) -> ApiToken | None:
        found = self._cached("token", token_hash)
        return found if found is not MISSING else self._catalog(
            "token", token_hash, "get_token", {"token_hash": token_hash},
            self._codec.token_from, remember_missing=False)

    def get_sequence(self, account_id: int, sequence_id: int) -> Sequence | None:
        key = (account_id, sequence_id)
        found = self._cached("sequence", key)
        return found if found is not MISSING else self._catalog(
            "sequence", key, "get_sequence", {"id": sequence_id, "account_id": account_id},
            self._codec.sequence_from)
