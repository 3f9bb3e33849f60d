"""SellClient: Zendesk Sell's v2 sequence enrollments, sequences and tasks over httpx.

It speaks to the real Sell (`https://api.getbase.com`) or to this engine's own
server, which is wire-compatible. The httpx transport is injectable: tests hand
it `httpx.WSGITransport(app=create_app(...))` and run against our server
in-process, with no socket. Results are the read models of models.py; failures
are the typed errors of errors.py; retries are exchange.py's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from engine.adapters.sell.documents import (
    Json,
    enrollment_from,
    finish_ongoing_from,
    page_from,
    resource_from,
    sequence_from,
    task_from,
)
from engine.adapters.sell.exchange import Exchange, RetryPolicy, json_of
from engine.adapters.sell.models import RemoteEnrollment, RemotePage, RemoteSequence, RemoteTask
from engine.domain.enums import EnrollmentState, ResourceType
from engine.wire.render import format_instant

__all__ = ["DEFAULT_BASE_URL", "SellClient"]

DEFAULT_BASE_URL = "https://api.getbase.com"
USER_AGENT = "seqengine-sell-client/0.1"
ENROLLMENTS, SEQUENCES, TASKS = "/v2/sequence_enrollments", "/v2/sequences", "/v2/tasks"
T = TypeVar("T")


def _ids(values: Iterable[int] | None) -> str | None:
    return None if values is None else ",".join(str(int(value)) for value in values)


def _query(**given: object) -> dict[str, str]:
    """Query parameters as Sell reads them: lists comma-joined, booleans lowercase,
    None left out."""
    found: dict[str, str] = {}
    for name, value in given.items():
        if value is None:
            continue
        if isinstance(value, bool):
            found[name] = "true" if value else "false"
        else:
            found[name] = str(value)
    return found


def _field(value: object) -> object:
    """A task field for JSON: instants as Sell writes them (UTC, `Z`)."""
    return format_instant(value) if isinstance(value, datetime) else value


class SellClient:
    """A Sell v2 client. Close it (or use it as a context manager) when done.

    `transport`: any httpx.BaseTransport (default: httpx's own, over the network).
    `max_retries`, `sleep`: see exchange.py for what is retried; `sleep` is called
    with each wait in seconds, so a test can record the waits instead of sleeping.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 300.0,
        user_agent: str = USER_AGENT,
    ) -> None:
        if not token or not token.strip():
            raise ValueError("a Sell client needs an access token")
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url
        self._http = httpx.Client(
            base_url=url,
            transport=transport,
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": user_agent,
            },
        )
        self._exchange = Exchange(
            self._http, RetryPolicy(max_retries=max_retries, max_wait=max_wait), sleep)

    # -- lifetime --------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    def __enter__(self) -> SellClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- sequence enrollments ----------------------------------------------------

    def list_enrollments(
        self,
        *,
        ids: Iterable[int] | None = None,
        resource_ids: Iterable[int] | None = None,
        resource_type: ResourceType | str | None = None,
        sequence_id: int | None = None,
        state: EnrollmentState | str | None = None,
        page: int = 1,
        per_page: int = 25,
    ) -> RemotePage[RemoteEnrollment]:
        """GET /v2/sequence_enrollments: one page, ordered by id."""
        where = _query(ids=_ids(ids), resource_ids=_ids(resource_ids),
                       resource_type=resource_type, sequence_id=sequence_id, state=state)
        return self._page(ENROLLMENTS, where, enrollment_from, page, per_page)

    def iter_enrollments(
        self,
        *,
        ids: Iterable[int] | None = None,
        resource_ids: Iterable[int] | None = None,
        resource_type: ResourceType | str | None = None,
        sequence_id: int | None = None,
        state: EnrollmentState | str | None = None,
        per_page: int = 100,
    ) -> Iterator[RemoteEnrollment]:
        """Every enrollment that matches, page after page (lazily)."""
        where = _query(ids=_ids(ids), resource_ids=_ids(resource_ids),
                       resource_type=resource_type, sequence_id=sequence_id, state=state)
        return self._every(ENROLLMENTS, where, enrollment_from, per_page)

    def create_enrollment(
        self,
        sequence_id: int,
        resource_type: ResourceType | str,
        resource_id: int,
        actor_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> RemoteEnrollment:
        """POST /v2/sequence_enrollments. With an `idempotency_key` a repeated call
        returns the first enrollment, so the client may also retry it after a timeout."""
        body: dict[str, Any] = {"sequence_id": sequence_id, "resource_type": resource_type,
                                "resource_id": resource_id}
        if actor_id is not None:
            body["actor_id"] = actor_id
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        document = self._json("POST", ENROLLMENTS, body=body, headers=headers,
                              repeatable=idempotency_key is not None)
        return enrollment_from(resource_from(document, "sequence_enrollment"))

    def get_enrollment(self, enrollment_id: int) -> RemoteEnrollment:
        document = self._json("GET", f"{ENROLLMENTS}/{int(enrollment_id)}", repeatable=True)
        return enrollment_from(resource_from(document, "sequence_enrollment"))

    def update_enrollment(
        self, enrollment_id: int, state: EnrollmentState | str
    ) -> RemoteEnrollment:
        """PUT /v2/sequence_enrollments/:id with `state`: `finished` or `active`."""
        document = self._json("PUT", f"{ENROLLMENTS}/{int(enrollment_id)}",
                              body={"state": state}, repeatable=True)
        return enrollment_from(resource_from(document, "sequence_enrollment"))

    def finish_enrollment(self, enrollment_id: int) -> RemoteEnrollment:
        return self.update_enrollment(enrollment_id, EnrollmentState.FINISHED)

    def resume_enrollment(self, enrollment_id: int) -> RemoteEnrollment:
        """Resume a blocked enrollment (`state: active`)."""
        return self.update_enrollment(enrollment_id, EnrollmentState.ACTIVE)

    def finish_ongoing_for_resource(
        self,
        resource_type: ResourceType | str,
        resource_id: int,
        sequence_ids: Iterable[int] | None = None,
    ) -> tuple[RemoteEnrollment, ...]:
        """Finish the resource's ongoing enrollments (of `sequence_ids` only, if given);
        returns the enrollments it finished."""
        body: dict[str, Any] = {"resource_type": resource_type, "resource_id": resource_id}
        if sequence_ids is not None:
            body["sequence_ids"] = [int(value) for value in sequence_ids]
        document = self._json("POST", f"{ENROLLMENTS}/finish_ongoing_for_resource", body=body)
        return finish_ongoing_from(document)

    # -- sequences -----------------------------------------------------------------

    def list_sequences(
        self,
        *,
        name: str | None = None,
        sort_by: str | None = None,
        page: int = 1,
        per_page: int = 25,
    ) -> RemotePage[RemoteSequence]:
        """One page of sequences; `name` matches exactly, `sort_by` is Sell's
        (`created_at:desc`, ...)."""
        where = _query(name=name, sort_by=sort_by)
        return self._page(SEQUENCES, where, sequence_from, page, per_page)

    def iter_sequences(
        self, *, name: str | None = None, sort_by: str | None = None, per_page: int = 100
    ) -> Iterator[RemoteSequence]:
        return self._every(SEQUENCES, _query(name=name, sort_by=sort_by), sequence_from,
                           per_page)

    def get_sequence(self, sequence_id: int) -> RemoteSequence:
        document = self._json("GET", f"{SEQUENCES}/{int(sequence_id)}", repeatable=True)
        return sequence_from(resource_from(document, "sequence"))

    # -- tasks -----------------------------------------------------------------------

    def list_tasks(
        self,
        *,
        ids: Iterable[int] | None = None,
        resource_type: ResourceType | str | None = None,
        resource_id: int | None = None,
        completed: bool | None = None,
        page: int = 1,
        per_page: int = 25,
    ) -> RemotePage[RemoteTask]:
        where = _query(ids=_ids(ids), resource_type=resource_type, resource_id=resource_id,
                       completed=completed)
        return self._page(TASKS, where, task_from, page, per_page)

    def iter_tasks(
        self,
        *,
        ids: Iterable[int] | None = None,
        resource_type: ResourceType | str | None = None,
        resource_id: int | None = None,
        completed: bool | None = None,
        per_page: int = 100,
    ) -> Iterator[RemoteTask]:
        where = _query(ids=_ids(ids), resource_type=resource_type, resource_id=resource_id,
                       completed=completed)
        return self._every(TASKS, where, task_from, per_page)

    def get_task(self, task_id: int) -> RemoteTask:
        document = self._json("GET", f"{TASKS}/{int(task_id)}", repeatable=True)
        return task_from(resource_from(document, "task"))

    def update_task(self, task_id: int, **fields: object) -> RemoteTask:
        """PUT /v2/tasks/:id with Sell's writable fields (`completed`, `content`,
        `due_date`, `remind_at`); datetimes must be aware and are sent in UTC."""
        if not fields:
            raise ValueError("update_task needs at least one field")
        body = {name: _field(value) for name, value in fields.items()}
        document = self._json("PUT", f"{TASKS}/{int(task_id)}", body=body, repeatable=True)
        return task_from(resource_from(document, "task"))

    def complete_task(self, task_id: int) -> RemoteTask:
        """Complete the task; a sequence's task step completes with it."""
        return self.update_task(task_id, completed=True)

    def delete_task(self, task_id: int) -> None:
        """DELETE /v2/tasks/:id (204). A sequence's task: its enrollment finishes."""
        self._exchange.send("DELETE", f"{TASKS}/{int(task_id)}")

    # -- plumbing ----------------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool = False,
    ) -> Any:
        response = self._exchange.send(method, path, params=params, body=body, headers=headers,
                                       repeatable=repeatable)
        return json_of(response)

    def _page(
        self,
        path: str,
        where: dict[str, str],
        decode: Callable[[Json, str], T],
        page: int,
        per_page: int,
    ) -> RemotePage[T]:
        params = {**where, "page": str(int(page)), "per_page": str(int(per_page))}
        document = self._json("GET", path, params=params, repeatable=True)
        return page_from(document, decode, page, per_page)

    def _every(
        self, path: str, where: dict[str, str], decode: Callable[[Json, str], T], per_page: int
    ) -> Iterator[T]:
        number: int | None = 1
        while number is not None:
            found = self._page(path, where, decode, number, per_page)
            yield from found.items
            number = found.next_page
