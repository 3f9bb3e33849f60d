"""Turning command-line settings into adapters: the database URL and the deliveries."""

import os

from engine.app.ports import EmailDelivery, Store, TaskDelivery


def open_store(url: str) -> Store:
    """`sqlite:///file.db` (the embedded default), `memory` (nothing kept)."""
    if url == "memory":
        from engine.adapters.storage.memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite:"):
        from engine.adapters.storage.sqlite import SqliteStore

        return SqliteStore(url)
    if url.startswith(("postgresql:", "postgres:")):
        raise ValueError("PostgreSQL storage is not available yet: use sqlite:///FILE.db")
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE.db")


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
