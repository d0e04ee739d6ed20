"""Rate limits and login lockout (issue 14), counted in the cache (Redis in production, so
every app process shares the count; atomic INCR).

`limit(scope, ident)` counts one hit in a fixed window and raises `RateLimited` (429,
`details.retry_after_s`) above the scope's budget from LINLI_RATE_LIMITS. Limits **fail
open**: when the cache is unreachable the request goes through and a warning is logged,
so Redis being down never stops orders (the database's own guards, stock and quotas, still
hold); what a limit protects is capacity and other people's patience, not correctness.

Login lockout (`login_check` / `login_failed` / `login_succeeded`): after
LINLI_LOGIN_MAX_FAILURES failed password logins for one account from one address within
LINLI_LOGIN_LOCK_SECONDS, that pair is locked for the rest of the window (`login_locked`,
429); a higher per-account budget (×4, any address) stops guessing spread over many
addresses. A successful login clears the pair's count.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from .errors import RateLimited

log = logging.getLogger(__name__)


class LoginLocked(RateLimited):
    code = "login_locked"
    message = _("Too many failed logins. Please wait a while and try again.")


def _key(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]  # no phone numbers in keys
    return f"rl:{parts[0]}:{digest}"


# One round trip on Redis: the window's first hit starts its expiry. django-redis's
# add() then incr() took two, the second an EVAL of its own (issue 15: 2 of the 8 Redis
# round trips an order made).
_COUNT_LUA = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""
_count_script = None


def _redis_client() -> object | None:
    """The Redis client behind the cache (django-redis), or None for another backend."""
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    return get_client(write=True) if get_client else None


def _incr(key: str, window_s: int) -> int | None:
    """The count after this hit, or None when the cache cannot be reached."""
    global _count_script
    try:
        client = _redis_client()
        if client is not None:
            if _count_script is None:
                _count_script = client.register_script(_COUNT_LUA)  # type: ignore[attr-defined]
            return int(_count_script(keys=[cache.client.make_key(key)],  # type: ignore[attr-defined]
                                     args=[window_s * 1000], client=client))
        cache.add(key, 0, timeout=window_s)
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_s)
        return 1
    except Exception:  # noqa: BLE001
        log.warning("rate limit %s not counted: cache unreachable", key.split(":")[1], exc_info=True)
        return None


def _window_left(window_s: int) -> int:
    return max(1, window_s - int(time.time()) % window_s)


def limit(scope: str, ident: str) -> None:
    """Count one request of `ident` (a user's public id, an address) in `scope`."""
    budget, window_s = settings.LINLI_RATE_LIMITS[scope]
    window = int(time.time()) // window_s
    count = _incr(_key(scope, ident, str(window)), window_s)
    if count is not None and count > budget:
        raise RateLimited(scope=scope, retry_after_s=_window_left(window_s))


def _login_keys(login: str, address: str) -> tuple[str, str]:
    login = login.strip().lower()
    return _key("login", login, address), _key("login-any", login)


def login_check(login: str, address: str) -> None:
    pair, anywhere = _login_keys(login, address)
    failures = settings.LINLI_LOGIN_MAX_FAILURES
    try:
        counts = cache.get_many([pair, anywhere])
    except Exception:  # noqa: BLE001
        log.warning("login lockout not checked: cache unreachable", exc_info=True)
        return
    if counts.get(pair, 0) >= failures or counts.get(anywhere, 0) >= failures * 4:
        raise LoginLocked(retry_after_s=settings.LINLI_LOGIN_LOCK_SECONDS)


def login_failed(login: str, address: str) -> None:
    pair, anywhere = _login_keys(login, address)
    _incr(pair, settings.LINLI_LOGIN_LOCK_SECONDS)
    _incr(anywhere, settings.LINLI_LOGIN_LOCK_SECONDS)


def login_succeeded(login: str, address: str) -> None:
    pair, _anywhere = _login_keys(login, address)
    try:
        cache.delete(pair)
    except Exception:  # noqa: BLE001
        log.warning("login lockout not cleared: cache unreachable", exc_info=True)


def client_address(request: object) -> str:
    """The caller's address for counters and logs (`core.security.client_ip`; behind proxies
    set LINLI_TRUSTED_PROXY_HOPS), "unknown" when there is none."""
    from linli.core.security import client_ip

    return client_ip(request) or "unknown"
