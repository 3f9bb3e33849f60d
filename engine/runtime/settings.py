"""Turning command-line settings into adapters: the database URL and the deliveries."""

import os

from engine.app.ports import EmailDelivery, Store, TaskDelivery


def open_store(url: str) -> Store:
    """`sqlite:///file.db` (the embedded default), `postgresql://...` (many processes),
    `memory` (nothing kept)."""
    if url == "memory":
        from engine.adapters.storage.memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite:"):
        from engine.adapters.storage.sqlite import SqliteStore

        return SqliteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        from engine.adapters.storage.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(
        f"unsupported database URL {url!r}: use sqlite:///FILE.db or postgresql://...")


def shown_url(url: str) -> str:
    """The database URL as logs may show it: any password replaced by ***."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def open_delivery(spec: str, store: Store, secret: str | None = None) -> EmailDelivery:
    """`outbox` (records sends in the store) or `webhook:URL` (POSTs them to a host backend)."""
    if spec == "outbox":
        from engine.adapters.outbox import OutboxDelivery

        return OutboxDelivery(store)
    if spec.startswith("webhook:"):
        from engine.adapters.webhook import WebhookDelivery

        return WebhookDelivery(
            spec.removeprefix("webhook:"), secret or os.environ.get("SEQENGINE_WEBHOOK_SECRET")
        )
    raise ValueError(f"unknown delivery {spec!r}: use outbox or webhook:URL")


def open_task_delivery(spec: str, secret: str | None = None) -> TaskDelivery | None:
    """`internal` (None: the engine keeps its tasks) or `webhook:URL` (a host creates
    them; signed with the same secret as the email webhook)."""
    if spec == "internal":
        return None
    if spec.startswith("webhook:"):
        from engine.adapters.webhook import TaskWebhookDelivery

        return TaskWebhookDelivery(
            spec.removeprefix("webhook:"), secret or os.environ.get("SEQENGINE_WEBHOOK_SECRET")
        )
    raise ValueError(f"unknown task delivery {spec!r}: use internal or webhook:URL")
