"""DueListener: LISTEN for due work on a connection of its own, in a daemon thread.

The protocol, in the spirit of procrastinate's and apscheduler's listeners:
- one dedicated autocommit connection runs `LISTEN "<schema>_due"`; the
  trigger on enrollments sends NOTIFY there when a due_at is set or moved
  earlier, and each notification calls `wake()`;
- every `keepalive` seconds without a notification the thread runs a
  `SELECT 1`, so a connection that died silently is noticed;
- when the connection fails (server restart, network, terminated backend)
  the thread waits `retry` seconds, reconnects, LISTENs again and calls
  `wake()` once: notifications sent while it was away are lost, and the
  woken scheduler looks at the database itself;
- `stop()` ends the thread within `keepalive` seconds and closes the
  connection. wake() must be cheap and must not raise (setting an Event).
"""

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("seqengine.postgres")


class DueListener:
    def __init__(
        self,
        conninfo: str,
        kwargs: Mapping[str, Any],
        channel: str,
        wake: Callable[[], None],
        *,
        keepalive: float = 2.0,
        retry: float = 1.0,
    ) -> None:
        self.conninfo, self.kwargs, self.channel, self.wake = conninfo, dict(kwargs), channel, wake
        self.keepalive, self.retry = keepalive, retry
        self.stopping = threading.Event()
        self.listening = threading.Event()  # set while LISTEN is in place (tests wait on it)
        self.connections = 0  # how many times it has connected
        self._thread = threading.Thread(target=self._run, name=f"listen-{channel}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.keepalive + 5)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._listen()
            except Exception as error:
                self.listening.clear()
                if not self.stopping.is_set():
                    log.warning("due-work listener lost its connection (%s); reconnecting",
                                error)
            self.stopping.wait(self.retry)

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        kwargs = {**self.kwargs, "autocommit": True}
        with psycopg.connect(self.conninfo, **kwargs) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.connections += 1
            self.listening.set()
            if self.connections > 1:
                self.wake()  # what was notified while we were away is lost
            while not self.stopping.is_set():
                got = False
                for _ in conn.notifies(timeout=self.keepalive):
                    got = True
                    self.wake()
                    if self.stopping.is_set():
                        break
                if not got:
                    conn.execute("SELECT 1")  # raises if the connection died silently
