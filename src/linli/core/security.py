"""Web security headers and CORS (issue 14), as one middleware each.

`security_headers`: a Content-Security-Policy on every HTML answer (scripts, styles,
images, connections and forms from our own origin only; no framing; no plugins), and a
Permissions-Policy. Django's SecurityMiddleware adds nosniff, Referrer-Policy and, when
LINLI_HTTPS is on, HSTS and the HTTPS redirect; X-Frame-Options comes from its
clickjacking middleware. The policy still allows inline scripts and styles: about ten
templates carry small inline scripts (live updates, the map dot); moving them to static
files with a nonce is the next step and is noted in docs/security.md. The interactive API
docs (/api/docs) load Swagger UI from its CDN and get no CSP.

`cors`: the REST API (/api/) answers cross-origin browser calls only from the origins
listed in LINLI_CORS_ALLOWED_ORIGINS (a mini-program's or partner's web app); preflight
OPTIONS requests are answered here. Nothing is allowed by default.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors ")
PERMISSIONS = "geolocation=(self), camera=(self), microphone=(), payment=(self), usb=()"
_NO_CSP_PREFIXES = ("/api/docs",)
_CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, Accept-Language"


def security_headers(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (response.get("Content-Type", "").startswith("text/html")
                and not request.path.startswith(_NO_CSP_PREFIXES)):
            # a page allowed in our own frames (the counter's receipt) says so with
            # X-Frame-Options: SAMEORIGIN; CSP's frame-ancestors must agree or it wins
            same = response.get("X-Frame-Options", "").upper() == "SAMEORIGIN"
            response.headers.setdefault("Content-Security-Policy", CSP + ("'self'" if same else "'none'"))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        return response
    return middleware


def cors(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin")
        allowed = bool(origin) and request.path.startswith("/api/") and origin in settings.LINLI_CORS_ALLOWED_ORIGINS
        if allowed and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = _CORS_METHODS
            response["Access-Control-Allow-Headers"] = _CORS_HEADERS
            response["Access-Control-Max-Age"] = "600"
        else:
            response = get_response(request)
        if allowed:
            response["Access-Control-Allow-Origin"] = origin  # type: ignore[assignment]
            response["Vary"] = ", ".join(v for v in (response.get("Vary"), "Origin") if v)
        return response
    return middleware


def client_ip(request: object) -> str:
    """The caller's IP address, or "" when unknown: the socket's peer, unless
    LINLI_TRUSTED_PROXY_HOPS says that many proxies of ours each appended the address they
    saw to X-Forwarded-For; then the entry that many places from the right, the last one a
    client cannot forge (whatever it sends itself sits to the left of it). Rate limits,
    login lockouts, the audit log and the payment gateway's client IP all read it here."""
    meta = getattr(request, "META", {})
    hops = getattr(settings, "LINLI_TRUSTED_PROXY_HOPS", 0)
    if hops > 0:
        chain = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops][:64]
    return str(meta.get("REMOTE_ADDR", "") or "")[:64]
