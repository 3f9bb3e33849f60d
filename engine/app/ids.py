"""Ids: allocated by the store, or chosen by the caller (emulating a known dataset)."""

from engine.app.ports import UnitOfWork
from engine.errors import AlreadyExists


def allocate_id(uow: UnitOfWork, kind: str, chosen: int | None = None) -> int:
    """A fresh id of `kind`, or `chosen` if no account already has that id."""
    if chosen is None or chosen == 0:
        return uow.next_id(kind)
    if uow.id_taken(kind, chosen):
        raise AlreadyExists(f"a {kind} with id {chosen} already exists", field="/data/id",
                            resource=kind)
    return chosen
