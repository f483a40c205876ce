"""Notifications from the database server: a listening connection on a thread of its own.

Where the dialect has them (:attr:`~springbatch_py.db.dialect.Dialect.listen_notify`:
PostgreSQL's ``LISTEN``/``NOTIFY``), a :class:`Listener` holds one connection outside the
engine's pool, listens on a channel and hands each payload to a callback. When the connection
breaks (a server restart) it connects again with a growing pause; :attr:`Listener.live` says
whether it listens now, so that callers poll faster while it does not. A notification sent while
no connection listened is lost: callers never rely on one (they poll as well).

Threads: the listener's thread alone uses its connection; ``live`` is a flag it sets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from springbatch_py.db.database import Database
from springbatch_py.util import one_line

log = logging.getLogger(__name__)

#: How long one wait for notifications lasts before the thread checks whether to stop.
WAIT_S = 1.0
#: Pauses between attempts to connect again: first, and the longest.
FIRST_RETRY_S = 0.2
MAX_RETRY_S = 5.0


class Listener:
    """Listens on ``channel`` of ``db`` and calls ``on_payload`` with each notification."""

    def __init__(self, db: Database, channel: str, on_payload: Callable[[str], None]) -> None:
        self.db = db
        self.channel = channel
        self.on_payload = on_payload
        self._stop = threading.Event()
        self._live = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"listen-{channel}", daemon=True)

    @property
    def live(self) -> bool:
        """Whether the listener is connected and listening now."""
        return self._live.is_set()

    def start(self) -> None:
        """Connect and listen on the listener's thread."""
        self._thread.start()

    def wait_live(self, timeout: float) -> bool:
        """Wait until the listener listens; False after ``timeout``."""
        return self._live.wait(timeout)

    def stop(self) -> None:
        """Stop listening and close the connection (within about :data:`WAIT_S`)."""
        self._stop.set()
        self._thread.join(WAIT_S * 3)

    def _run(self) -> None:
        pause = FIRST_RETRY_S
        while not self._stop.is_set():
            connection: Any = None
            try:
                connection = self.db.dialect.open_listener(self.db.engine, self.channel)
                self._live.set()
                pause = FIRST_RETRY_S
                log.debug("listening on %s", self.channel)
                while not self._stop.is_set():
                    for payload in self.db.dialect.wait_notifications(connection, WAIT_S):
                        self._deliver(payload)
            except Exception as exc:
                if self._live.is_set():
                    log.warning(
                        "notifications on %s stopped (%s); polling until they resume",
                        self.channel,
                        one_line(exc),
                    )
                else:
                    log.debug("cannot listen on %s yet: %s", self.channel, one_line(exc))
            finally:
                self._live.clear()
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:
                        log.debug("closing the listening connection failed", exc_info=True)
            if self._stop.wait(pause):
                break
            pause = min(pause * 2, MAX_RETRY_S)

    def _deliver(self, payload: str) -> None:
        try:
            self.on_payload(payload)
        except Exception:
            log.exception("handling notification %r failed", payload)
