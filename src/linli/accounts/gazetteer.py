"""The process's gazetteer (see `geocode`): the seed's city data plus every listed store's
address and point, rebuilt when stores change.

Stores belong to `merchants`, which sits above `accounts`; this is the one place accounts
reads them (a function-level import, read only). Freshness follows the nearby index: at
most every `LINLI_NEARBY_REFRESH_SECONDS` one cheap query compares the stores' count and
latest change with what the gazetteer was built from; a whole city of 100,000 stores
rebuilds in about a second, so it is kept per process rather than in a shared cache.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from linli.core.seed.cities import CITIES

from .geocode import Gazetteer, KnownAddress

_lock = threading.Lock()
_state: dict[str, Any] = {"gazetteer": None, "stamp": None, "checked_at": 0.0}


def _stores() -> Any:
    from linli.merchants.models import Store  # merchants sits above accounts: read only, here only

    return Store.objects.exclude(status=Store.Status.CLOSED)


def gazetteer() -> Gazetteer:
    with _lock:
        now = time.monotonic()
        if (_state["gazetteer"] is not None
                and now - _state["checked_at"] < settings.LINLI_NEARBY_REFRESH_SECONDS):
            return _state["gazetteer"]
        _state["checked_at"] = now
        stamp = tuple(_stores().aggregate(n=Count("id"), last=Max("updated_at")).values())
        if _state["gazetteer"] is None or stamp != _state["stamp"]:
            rows = _stores().values_list("city_code", "address", "lat", "lng").order_by("id")
            _state["gazetteer"] = Gazetteer(
                CITIES.values(), (KnownAddress(city, text, lat, lng) for city, text, lat, lng in rows))
            _state["stamp"] = stamp
        return _state["gazetteer"]
