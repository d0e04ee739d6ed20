"""One settings module, configured by the environment (12-factor).

Embedded default: SQLite file under ./var, local-memory cache, eager Celery tasks.
Production: set DATABASE_URL, REDIS_URL, CELERY_BROKER_URL and LINLI_SECRET_KEY.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("LINLI_VAR_DIR", "var")).resolve()

DEBUG = env_bool("LINLI_DEBUG", default=False)
_DEV_SECRET = "linli-insecure-dev-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("LINLI_SECRET_KEY", _DEV_SECRET)
if SECRET_KEY == _DEV_SECRET and env_bool("LINLI_PRODUCTION"):
    raise RuntimeError("LINLI_SECRET_KEY must be set when LINLI_PRODUCTION=1")
# Field encryption of personal data (docs/security.md "Field encryption"): "kid:base64key,..."
# with the current key first, and the key of the keyed lookup hashes (phone_hash). Empty:
# keys derived from SECRET_KEY, for development and tests only.
LINLI_FIELD_KEYS = os.environ.get("LINLI_FIELD_KEYS", "")
LINLI_LOOKUP_KEY = os.environ.get("LINLI_LOOKUP_KEY", "")
if env_bool("LINLI_PRODUCTION") and not (LINLI_FIELD_KEYS and LINLI_LOOKUP_KEY):
    raise RuntimeError("LINLI_FIELD_KEYS and LINLI_LOOKUP_KEY must be set when LINLI_PRODUCTION=1")

ALLOWED_HOSTS = [h for h in os.environ.get("LINLI_ALLOWED_HOSTS", "*").split(",") if h]
# --- web security (issue 14, docs/security.md) ------------------------------------------
# Behind HTTPS (LINLI_HTTPS=1): secure cookies, HSTS for a year, HTTP redirected to HTTPS
# (the proxy in front must set X-Forwarded-Proto).
LINLI_HTTPS = env_bool("LINLI_HTTPS", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = LINLI_HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if LINLI_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = LINLI_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if LINLI_HTTPS else None
# Reverse proxies in front of the app that append the caller to X-Forwarded-For (nginx with
# `proxy_add_x_forwarded_for`, a cloud load balancer): how many. 0 (default) trusts only the
# socket's address; the header is then ignored, since any client can send one.
LINLI_TRUSTED_PROXY_HOPS = int(os.environ.get("LINLI_TRUSTED_PROXY_HOPS", "0"))
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Rate limits per scope: (requests, window seconds), per user (orders, coupons, reviews);
# counted in the cache, failing open (core/ratelimit.py). Login lockout: failures per
# login and address, and how long the lock lasts.
LINLI_RATE_LIMITS = {
    "order_place": (int(os.environ.get("LINLI_RATE_ORDERS_PER_MINUTE", "20")), 60),
    "coupon_claim": (int(os.environ.get("LINLI_RATE_COUPON_CLAIMS_PER_MINUTE", "30")), 60),
    "review_submit": (int(os.environ.get("LINLI_RATE_REVIEWS_PER_HOUR", "10")), 3600),
}
LINLI_LOGIN_MAX_FAILURES = int(os.environ.get("LINLI_LOGIN_MAX_FAILURES", "5"))
LINLI_LOGIN_LOCK_SECONDS = int(os.environ.get("LINLI_LOGIN_LOCK_SECONDS", "900"))
LINLI_CORS_ALLOWED_ORIGINS = [o.strip() for o in os.environ.get("LINLI_CORS_ALLOWED_ORIGINS", "").split(",")
                              if o.strip()]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("LINLI_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "linli.ops",  # first: its templates override admin's
    "linli.ops.apps.OpsAdminConfig",  # django.contrib.admin, with admin.site = the back office
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "linli.core",
    "linli.accounts",
    "linli.merchants",
    "linli.discovery",
    "linli.inventory",
    "linli.orders",
    "linli.payments",
    "linli.marketing",
    "linli.pos",
    "linli.delivery",
    "linli.notifications",
    "linli.reviews",
    "linli.aftersales",
    "linli.bookings",
    "linli.bookings.tables",
    "linli.finance",
    "linli.analytics",
    "linli.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "linli.core.security.security_headers",  # CSP, Permissions-Policy (docs/security.md)
    "linli.core.security.cors",  # /api/ from LINLI_CORS_ALLOWED_ORIGINS only
    "linli.core.middleware.reject_nul_characters",
    "linli.core.audit.request_address_middleware",  # the address in audit entries
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "linli.urls"
ASGI_APPLICATION = "linli.asgi.application"
WSGI_APPLICATION = "linli.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///var/linli.db")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _name = DATABASES["default"]["NAME"]
    if _name and _name != ":memory:":
        Path(_name).resolve().parent.mkdir(parents=True, exist_ok=True)
    # WAL + a busy timeout let the dev server's threads share the file without
    # "database is locked"; IMMEDIATE makes writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, but a connection that answered a moment ago skips its health check
    # (core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "linli.core.postgresql"
    # psycopg 3 with server-side parameter binding: a statement run LINLI_PG_PREPARE_THRESHOLD
    # times on a connection is prepared (parsed and planned once per connection), which
    # cuts the server's work per query. Behind PgBouncer in transaction mode set it to "off"
    # (client-side binding, no prepared statements: Django's default).
    _prepare = os.environ.get("LINLI_PG_PREPARE_THRESHOLD", "2").strip().lower()
    if _prepare not in ("", "off", "none"):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": int(_prepare)})
# Keep connections across requests (opening one per request costs more than most queries).
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("LINLI_CONN_MAX_AGE", "60"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A connection given back less than this many seconds ago is not health-checked again
# (PostgreSQL; 0: check every request, as Django does).
LINLI_DB_ALIVE_BYPASS_S = float(os.environ.get("LINLI_DB_ALIVE_BYPASS_S", "0.5"))
_test_name = os.environ.get("LINLI_TEST_DATABASE_NAME")
if not _test_name and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's in-memory default: with an in-memory database the live server
    # used by browser tests shares ONE connection between its request threads, and two
    # concurrent requests then collide ("cannot start a transaction within a transaction").
    # One file per test process, so parallel runs never share it; Django deletes it after.
    _test_name = str(Path(tempfile.gettempdir()) / f"linli-test-{os.getpid()}.sqlite3")
DATABASES["default"]["TEST"] = {"NAME": _test_name}
# A read replica (issue 15, core/dbrouter.py): marked read-only pages read from it; writes,
# transactions and everything after a write in the same request stay on the primary.
_replica_url = os.environ.get("LINLI_REPLICA_URL") or os.environ.get("DATABASE_REPLICA_URL", "")
if _replica_url:
    DATABASES["replica"] = {**dj_database_url.parse(_replica_url),
                            **{k: v for k, v in DATABASES["default"].items()
                               if k in ("ENGINE", "OPTIONS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS")},
                            "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["linli.core.dbrouter.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, locks and rate limits -----------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")


def redis_cache(url: str) -> dict:
    """The cache on Redis. Redis down must not stop orders (docs/reliability.md): every
    cache call gives up within a second and answers a miss (get: None, add: None, never
    True) instead of raising, and the ignored error is logged."""
    return {"default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": os.environ.get("LINLI_CACHE_PREFIX", "linli"),
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "IGNORE_EXCEPTIONS": True,
                    "SOCKET_CONNECT_TIMEOUT": 1.0, "SOCKET_TIMEOUT": 1.0},
    }}


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
if REDIS_URL:
    CACHES = redis_cache(REDIS_URL)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- background jobs -----------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Web workers hand task sends to the outbox relay (`linli outbox_relay`) instead of sending
# at commit: they then never import Celery (~10 MB each, core/outbox.py). Needs the relay
# running beside them (`make serve-prod` starts it); the beat's sweep is the fallback.
LINLI_OUTBOX_RELAY = os.environ.get("LINLI_OUTBOX_RELAY", "0") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = "UTC"
# Queues per concern (issue 15, docs/scaling.md): a slow settlement run or a campaign's
# fan-out never delays a dispatch round. Every task is listed (tests/scale/test_queues.py
# fails on a task without a decision); `make serve-prod` starts a worker per queue.
CELERY_TASK_DEFAULT_QUEUE = "default"
_QUEUE_TASKS = {
    "dispatch": ["delivery.tasks.dispatch_pending"],
    "notifications": ["notifications.tasks.deliver", "notifications.tasks.deliveries_due",
                      "bookings.tasks.booking_reminders", "marketing.tasks.campaigns_due"],
    "settlement": ["finance.tasks.settlement_daily", "finance.tasks.payouts_retry",
                   "finance.tasks.finance_sweep", "payments.tasks.payments_sync_task"],
    "default": ["orders.tasks.cancel_unpaid_orders", "orders.tasks.auto_complete_delivered",
                "orders.tasks.accept_timeout_orders", "orders.tasks.cancel_request_timeout_orders",
                "delivery.tasks.cleanup_rider_locations", "inventory.tasks.reset_daily_stock",
                "payments.tasks.sandbox_notify", "payments.tasks.sandbox_refund_finish",
                "pos.tasks.expire_points", "discovery.tasks.search_index_refresh_task",
                "discovery.tasks.recommendations_train_task", "marketing.tasks.coupons_return_sweep",
                "marketing.tasks.vouchers_sweep", "reviews.tasks.review_photos_sweep",
                "aftersales.tasks.sla_sweep", "analytics.tasks.events_flush",
                "analytics.tasks.aggregate_recent", "analytics.tasks.daily_report",
                "core.tasks.outbox_flush"],
}
CELERY_TASK_ROUTES = {f"linli.{task}": {"queue": queue}
                      for queue, tasks in _QUEUE_TASKS.items() for task in tasks}
# How often the beat task indexes changed stores and products for search: with a worker,
# how long a change may take to be findable (LINLI_SEARCH_INLINE_REFRESH below).
LINLI_SEARCH_REFRESH_SECONDS = 5.0
# A daily entry's schedule is {"crontab": {...}}, crontab's arguments: linli/celery.py makes
# it a crontab, so that this file (which every web worker loads) does not import Celery.
CELERY_BEAT_SCHEDULE = {
    "orders-cancel-unpaid": {"task": "linli.orders.tasks.cancel_unpaid_orders", "schedule": 60.0},
    "orders-auto-complete": {"task": "linli.orders.tasks.auto_complete_delivered", "schedule": 300.0},
    "orders-accept-timeout": {"task": "linli.orders.tasks.accept_timeout_orders", "schedule": 30.0},
    "orders-cancel-request-timeout": {"task": "linli.orders.tasks.cancel_request_timeout_orders", "schedule": 30.0},
    "delivery-dispatch-pending": {"task": "linli.delivery.tasks.dispatch_pending", "schedule": 15.0},
    "delivery-rider-locations-cleanup": {"task": "linli.delivery.tasks.cleanup_rider_locations", "schedule": 3600.0},
    # made-to-order daily counts: each item resets within a minute of its store's local midnight
    "inventory-daily-reset": {"task": "linli.inventory.tasks.reset_daily_stock", "schedule": 60.0},
    "payments-sync": {"task": "linli.payments.tasks.payments_sync_task", "schedule": 60.0},
    "pos-points-expire": {"task": "linli.pos.tasks.expire_points", "schedule": 3600.0},
    "discovery-search-index-refresh": {"task": "linli.discovery.tasks.search_index_refresh_task",
                                       "schedule": LINLI_SEARCH_REFRESH_SECONDS},
    # recommendations: retrained nightly at 03:00 Beijing time (19:00 UTC)
    "discovery-recommendations-train": {"task": "linli.discovery.tasks.recommendations_train_task",
                                        "schedule": {"crontab": {"hour": 19, "minute": 0}}},
    "marketing-coupons-return-sweep": {"task": "linli.marketing.tasks.coupons_return_sweep", "schedule": 300.0},
    "marketing-vouchers-sweep": {"task": "linli.marketing.tasks.vouchers_sweep", "schedule": 60.0},
    "marketing-campaigns-due": {"task": "linli.marketing.tasks.campaigns_due", "schedule": 60.0},
    "reviews-photos-sweep": {"task": "linli.reviews.tasks.review_photos_sweep", "schedule": 3600.0},
    "notifications-deliveries-due": {"task": "linli.notifications.tasks.deliveries_due", "schedule": 60.0},
    "aftersales-sla-sweep": {"task": "linli.aftersales.tasks.sla_sweep", "schedule": 60.0},
    "bookings-reminders": {"task": "linli.bookings.tasks.booking_reminders", "schedule": 60.0},
    # finance (issue 12): settle at 02:30 Beijing time (18:30 UTC), retry payouts every 10 minutes
    "finance-settlement-daily": {"task": "linli.finance.tasks.settlement_daily",
                                 "schedule": {"crontab": {"hour": 18, "minute": 30}}},
    "finance-payouts-retry": {"task": "linli.finance.tasks.payouts_retry", "schedule": 600.0},
    # analytics (issue 13): flush the event buffer, refresh today's and yesterday's aggregates,
    # daily report at 01:00 Beijing time (17:00 UTC)
    "analytics-events-flush": {"task": "linli.analytics.tasks.events_flush", "schedule": 5.0},
    "analytics-aggregate-recent": {"task": "linli.analytics.tasks.aggregate_recent", "schedule": 900.0},
    "analytics-daily-report": {"task": "linli.analytics.tasks.daily_report",
                               "schedule": {"crontab": {"hour": 17, "minute": 0}}},
    # reliability (issue 14): task sends the broker refused at commit time (core/outbox.py)
    "core-outbox-flush": {"task": "linli.core.tasks.outbox_flush", "schedule": 30.0},
}
# finance: payment fee per gateway (basis points), adjustments above this need a second operator
LINLI_FINANCE_GATEWAY_FEE_BP = {"sandbox": 60, "alipay": 60, "wechatpay": 60, "wallet": 0}
LINLI_FINANCE_ADJUSTMENT_APPROVAL_FEN = int(os.environ.get("LINLI_FINANCE_ADJUSTMENT_APPROVAL_FEN", "100000"))

# --- auth ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "linli.accounts.hashers.Argon2idHasher",  # OWASP's 7 MiB, 5-pass configuration (see the module)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LINLI_JWT_ACCESS_TTL = timedelta(minutes=int(os.environ.get("LINLI_JWT_ACCESS_MINUTES", "15")))
LINLI_JWT_REFRESH_TTL = timedelta(days=int(os.environ.get("LINLI_JWT_REFRESH_DAYS", "30")))
LINLI_SMS_PROVIDER = os.environ.get("LINLI_SMS_PROVIDER", "linli.accounts.sms.LogSmsProvider")
LINLI_SMS_CODE_TTL = timedelta(minutes=5)
LINLI_SMS_RESEND_SECONDS = 60
LINLI_SMS_DAILY_LIMIT = 10
LINLI_SMS_MAX_ATTEMPTS = 5
LINLI_DEFAULT_REGION = "CN"  # phone numbers without a +country code are read as Chinese

# The public menu's shape is cached per store and re-built when its version changes
# (merchants/menu_cache.py); this bounds how long a write that bypasses the catalog
# services (a shell, raw SQL) or a lagging replica can leave it stale (seconds).
LINLI_MENU_CACHE_SECONDS = int(os.environ.get("LINLI_MENU_CACHE_SECONDS", "60"))
# A store's running promotions are cached the same way (marketing.services.promotions_live;
# every Promotion save or delete replaces the version): the bound for a queryset .update().
LINLI_PROMOTIONS_CACHE_SECONDS = int(os.environ.get("LINLI_PROMOTIONS_CACHE_SECONDS", "60"))
# The city's load behind the promised delivery time (delivery.selectors.city_load): how
# long one count of open tasks, online riders and recent deliveries serves checkouts (s).
LINLI_CITY_LOAD_SECONDS = int(os.environ.get("LINLI_CITY_LOAD_SECONDS", "30"))

# --- discovery ------------------------------------------------------------------
# How stale the in-memory nearby index may be: each process re-reads changed stores at
# most this often (seconds).
LINLI_NEARBY_REFRESH_SECONDS = float(os.environ.get("LINLI_NEARBY_REFRESH_SECONDS", "1.0"))
# Does a search first index the stores and products changed since the last refresh?
# Embedded (eager tasks, no worker): yes, nothing else would. With a Celery worker: no,
# the beat task does it every LINLI_SEARCH_REFRESH_SECONDS, so web workers never load the
# Chinese segmenter and pinyin dictionaries (~120 MB each; issue 15's memory budget).
# LINLI_SEARCH_INLINE_REFRESH=1/0 overrides.
LINLI_SEARCH_INLINE_REFRESH = os.environ.get(
    "LINLI_SEARCH_INLINE_REFRESH", "1" if not CELERY_BROKER_URL else "0") == "1"

# --- orders and payments ----------------------------------------------------------
LINLI_UNPAID_ORDER_TTL = timedelta(minutes=15)
# Chain re-routing (orders/reroute.py): how many stores one cart may be offered to in all.
LINLI_REROUTE_MAX_STORES = int(os.environ.get("LINLI_REROUTE_MAX_STORES", "3"))
LINLI_AUTO_COMPLETE_AFTER = timedelta(hours=24)
# Paid orders not accepted within this are rejected and refunded (or accepted, for stores
# with StoreOrderSettings.auto_accept); a store may set its own minutes.
LINLI_ACCEPT_TIMEOUT = timedelta(minutes=int(os.environ.get("LINLI_ACCEPT_TIMEOUT_MINUTES", "5")))
LINLI_SANDBOX_SECRET = os.environ.get("LINLI_SANDBOX_SECRET", SECRET_KEY + ":sandbox")
# Where the sandbox gateway POSTs its signed notifications. Empty: delivered in-process
# through the same verifying handler the HTTP callback uses.
LINLI_SANDBOX_NOTIFY_URL = os.environ.get("LINLI_SANDBOX_NOTIFY_URL", "")
# The sandbox's unhappy paths (payments/gateways/sandbox.py): set LINLI_SANDBOX_ENABLED=0 to
# stop offering it once a real provider is configured.
LINLI_SANDBOX_ENABLED = os.environ.get("LINLI_SANDBOX_ENABLED", "1") != "0"
LINLI_SANDBOX_NOTIFY_DELAY_S = float(os.environ.get("LINLI_SANDBOX_NOTIFY_DELAY_S", "0"))
LINLI_SANDBOX_DROP_NOTIFICATIONS = os.environ.get("LINLI_SANDBOX_DROP_NOTIFICATIONS", "") == "1"
LINLI_SANDBOX_FAIL_CALLS = tuple(filter(None, os.environ.get("LINLI_SANDBOX_FAIL_CALLS", "").split(",")))
LINLI_SANDBOX_TIMEOUT_CALLS = tuple(filter(None, os.environ.get("LINLI_SANDBOX_TIMEOUT_CALLS", "").split(",")))
LINLI_SANDBOX_REFUND_MODE = os.environ.get("LINLI_SANDBOX_REFUND_MODE", "sync")
LINLI_BASE_URL = os.environ.get("LINLI_BASE_URL", "http://127.0.0.1:8000")

# --- payment providers (issue 6) ---------------------------------------------------------
# Alipay (python-alipay-sdk) and WeChat Pay v3 (wechatpayv3). A provider is offered only
# when all its keys are set and load. Keys: PEM text, a path to a PEM file, or the bare
# base64 body the provider's console shows. See docs/payments.md.
LINLI_ALIPAY_APP_ID = os.environ.get("LINLI_ALIPAY_APP_ID", "")
LINLI_ALIPAY_PRIVATE_KEY = os.environ.get("LINLI_ALIPAY_PRIVATE_KEY", "")  # the app's RSA2 key
LINLI_ALIPAY_PUBLIC_KEY = os.environ.get("LINLI_ALIPAY_PUBLIC_KEY", "")  # Alipay's public key
LINLI_ALIPAY_SANDBOX = env_bool("LINLI_ALIPAY_SANDBOX", default=False)  # openapi-sandbox endpoint
LINLI_ALIPAY_NOTIFY_URL = os.environ.get(
    "LINLI_ALIPAY_NOTIFY_URL", f"{LINLI_BASE_URL}/api/v1/payments/callbacks/alipay")
LINLI_WECHATPAY_MCHID = os.environ.get("LINLI_WECHATPAY_MCHID", "")
LINLI_WECHATPAY_APPID = os.environ.get("LINLI_WECHATPAY_APPID", "")
LINLI_WECHATPAY_PRIVATE_KEY = os.environ.get("LINLI_WECHATPAY_PRIVATE_KEY", "")  # merchant API key
LINLI_WECHATPAY_CERT_SERIAL_NO = os.environ.get("LINLI_WECHATPAY_CERT_SERIAL_NO", "")
LINLI_WECHATPAY_APIV3_KEY = os.environ.get("LINLI_WECHATPAY_APIV3_KEY", "")  # 32 characters
# "WeChat Pay public key" mode: nothing is downloaded at start-up.
LINLI_WECHATPAY_PUBLIC_KEY = os.environ.get("LINLI_WECHATPAY_PUBLIC_KEY", "")
LINLI_WECHATPAY_PUBLIC_KEY_ID = os.environ.get("LINLI_WECHATPAY_PUBLIC_KEY_ID", "")  # PUB_KEY_ID_...
LINLI_WECHATPAY_NOTIFY_URL = os.environ.get(
    "LINLI_WECHATPAY_NOTIFY_URL", f"{LINLI_BASE_URL}/api/v1/payments/callbacks/wechatpay")

# --- API documents -----------------------------------------------------------------------
# The OpenAPI document built at deploy time (`linli openapi_build`, core/openapi_file.py);
# empty: each worker builds it when asked (~1 s of CPU each time, ~18 MB kept).
LINLI_OPENAPI_FILE = os.environ.get("LINLI_OPENAPI_FILE", "")

# --- web pages ------------------------------------------------------------------------------
LOGIN_URL = "/login"
# Real-time pushes (linli.core.realtime) use Redis pub/sub when REDIS_URL is set, else an
# in-process broker; channels are prefixed so several deployments can share one Redis.
LINLI_REALTIME_PREFIX = os.environ.get("LINLI_REALTIME_PREFIX", "linli:rt:")

# --- i18n and time -------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True
LINLI_DEFAULT_CITY_TZ = "Asia/Shanghai"

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("LINLI_STATIC_ROOT") or None  # only for collectstatic
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
LINLI_SERVE_MEDIA = env_bool("LINLI_SERVE_MEDIA", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"phones_masked": {"()": "linli.core.logmask.PhoneMaskFilter"}},  # issue 14
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["phones_masked"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LINLI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# Static files (admin, API docs) are served by the app itself from the apps' static
# folders (see urls.py), so the embedded mode needs no collectstatic; behind nginx or a
# CDN run `linli collectstatic` with LINLI_STATIC_ROOT set and serve that folder instead.

# --- notifications and campaigns (issue 9) -------------------------------------------------
# At most this many marketing messages reach one user per rolling 24 h / 7 days; service
# messages (an order's news) are never capped. Channels: docs/notifications.md.
LINLI_MARKETING_CAP_PER_DAY = int(os.environ.get("LINLI_MARKETING_CAP_PER_DAY", "2"))
LINLI_MARKETING_CAP_PER_WEEK = int(os.environ.get("LINLI_MARKETING_CAP_PER_WEEK", "5"))
LINLI_NOTIFICATION_CHANNELS = ["linli.notifications.channels.InAppChannel", "linli.notifications.channels.SmsChannel",
                               "linli.notifications.channels.PushChannel"]
# Push provider (SMS shares LINLI_SMS_PROVIDER with the login codes); per user and channel at
# most (count, seconds); failed SMS/push retried with back-off. docs/notifications.md.
LINLI_PUSH_PROVIDER = os.environ.get("LINLI_PUSH_PROVIDER", "linli.notifications.providers.ConsolePushProvider")
LINLI_NOTIFICATION_RATE_LIMITS = {"sms": (int(os.environ.get("LINLI_NOTIFICATION_SMS_PER_HOUR", "5")), 3600),
                                  "push": (int(os.environ.get("LINLI_NOTIFICATION_PUSH_PER_HOUR", "30")), 3600)}
LINLI_NOTIFICATION_MAX_ATTEMPTS = 4
LINLI_NOTIFICATION_RETRY_SECONDS = 60
LINLI_ALIYUN_SMS_ACCESS_KEY_ID = os.environ.get("LINLI_ALIYUN_SMS_ACCESS_KEY_ID", "")
LINLI_ALIYUN_SMS_ACCESS_KEY_SECRET = os.environ.get("LINLI_ALIYUN_SMS_ACCESS_KEY_SECRET", "")
LINLI_ALIYUN_SMS_SIGN = os.environ.get("LINLI_ALIYUN_SMS_SIGN", "")
LINLI_ALIYUN_SMS_TEMPLATE = os.environ.get("LINLI_ALIYUN_SMS_TEMPLATE", "")

# --- reviews (issue 10): docs/reviews.md ------------------------------------------------
LINLI_REVIEW_WINDOW_DAYS = int(os.environ.get("LINLI_REVIEW_WINDOW_DAYS", "15"))
# photos uploaded for a review never submitted are deleted after this (reviews.tasks)
LINLI_REVIEW_PHOTO_ORPHAN_HOURS = int(os.environ.get("LINLI_REVIEW_PHOTO_ORPHAN_HOURS", "24"))
# Held for moderation when the text contains one of these (compared after folding
# full-width characters, case, spaces and punctuation). Comma-separated in the environment.
LINLI_REVIEW_SENSITIVE_WORDS = [w for w in os.environ.get(
    "LINLI_REVIEW_SENSITIVE_WORDS", "微信,vx,加v,刷单,返现,代购,赌博,色情,法轮").split(",") if w.strip()]
LINLI_REVIEW_NEW_ACCOUNT_DAYS = int(os.environ.get("LINLI_REVIEW_NEW_ACCOUNT_DAYS", "7"))
LINLI_REVIEW_BURST_PER_HOUR = int(os.environ.get("LINLI_REVIEW_BURST_PER_HOUR", "3"))

# --- after-sales (issue 10): docs/aftersales.md ------------------------------------------
LINLI_AFTERSALES_WINDOW_DAYS = int(os.environ.get("LINLI_AFTERSALES_WINDOW_DAYS", "7"))  # after completion
LINLI_AFTERSALES_MERCHANT_SLA_HOURS = int(os.environ.get("LINLI_AFTERSALES_MERCHANT_SLA_HOURS", "24"))
LINLI_AFTERSALES_ESCALATE_DAYS = int(os.environ.get("LINLI_AFTERSALES_ESCALATE_DAYS", "7"))  # after the refusal
LINLI_AFTERSALES_RETURN_CONFIRM_DAYS = int(os.environ.get("LINLI_AFTERSALES_RETURN_CONFIRM_DAYS", "7"))  # then refunded
