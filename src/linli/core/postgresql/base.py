"""Django's PostgreSQL backend, skipping the health check of a connection that answered a
moment ago.

With CONN_HEALTH_CHECKS on (we keep connections across requests, so a restarted or
failed-over server must not answer the next request with an error), Django runs `SELECT 1`
on the first query of every request that reuses a connection. Under load that is one more
round trip per request, for a connection that answered its previous request a millisecond
before: ~0.1 ms of the app's CPU and a statement on the server, 2-3 % of an order (py-spy,
issue 15). Browse requests mostly answer from caches without a query, so few paid it: no
difference measurable there (docs/orders.md "eighth session").

A connection given back at the end of a request less than `LINLI_DB_ALIVE_BYPASS_S` ago
(default 0.5 s) is taken as alive, as connection pools do (HikariCP's
`aliveBypassWindowMs`, 500 ms by default); an idle one is still checked. The price: if the
server goes away inside that half second, the next request on that connection fails once
(the connection is then closed, as after any error, and the request after it reconnects),
where the check would have reconnected first. A server restart fails the requests in
flight in any case. `LINLI_DB_ALIVE_BYPASS_S=0` checks every request, as Django does.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    _given_back_at: float | None = None
    health_check_done: bool  # Django's, set in __init__ and connect()
    health_check_enabled: bool

    def close_if_unusable_or_obsolete(self) -> None:
        # Called as a request starts and as it finishes. health_check_done is still True at
        # the finish of a request that used the connection (checked or new); it is False
        # when the previous call reset it and nothing ran since, which is the next start.
        used = self.connection is not None and self.health_check_done
        super().close_if_unusable_or_obsolete()
        if used and self.connection is not None and not self.errors_occurred:
            self._given_back_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and self._given_back_at is not None
                and time.monotonic() - self._given_back_at < settings.LINLI_DB_ALIVE_BYPASS_S):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def connect(self) -> None:
        self._given_back_at = None
        super().connect()
