"""What the real gateways share, with no Django in it: the one place they reach the
network (a tiny HTTP transport the adapters take as a constructor argument, so tests can
stand in for the provider), exact yuan <-> fen conversion, and reading key settings."""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Protocol

_YUAN = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")  # ASCII digits only


def fen_to_yuan(amount_fen: int) -> str:
    """1234 → "12.34"; 1 → "0.01". Alipay wants exactly two decimals."""
    if amount_fen < 0:
        raise ValueError("negative amount")
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def yuan_to_fen(amount_yuan: str, *, signed: bool = False) -> int:
    """"12.3" → 1230, "0.01" → 1. Anything but plain decimal yuan with at most two
    decimals (floats' exponents, NaN, thousands separators, a sign unless `signed`) is a
    ValueError."""
    text = amount_yuan.strip()
    if not _YUAN.fullmatch(text) or (text.startswith("-") and not signed):
        raise ValueError(f"not a yuan amount: {amount_yuan!r}")
    return int(Decimal(text) * 100)


def key_text(value: str) -> str:
    """A key setting holds PEM text, a path to a PEM file, or the bare base64 body the
    providers' consoles show; a path is read, anything else is returned as it is."""
    value = value.strip()
    if value.startswith("-----BEGIN") or "\n" in value or len(value) > 1024:
        return value
    try:
        path = Path(value)
        return path.read_text() if path.is_file() else value
    except OSError:  # e.g. a base64 body too long to be a file name
        return value


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class Transport(Protocol):
    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> HttpAnswer:
        """Send one request; an HTTP error status is an answer, a failure to get any
        answer raises `TransportError`."""
        ...


class TransportError(Exception):
    """No answer at all: DNS, connection, TLS, timeout, a broken HTTP reply."""


class UrllibTransport:
    def __init__(self, *, timeout_s: float = 15.0) -> None:
        self.timeout_s = timeout_s

    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> HttpAnswer:
        if not url.startswith("https://"):
            raise TransportError(f"refusing a non-https provider URL: {url[:60]}")
        request = urllib.request.Request(url, data=body, headers=dict(headers or {}), method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return HttpAnswer(response.status, response.read(),
                                  {k.lower(): v for k, v in response.headers.items()})
        except urllib.error.HTTPError as exc:
            return HttpAnswer(exc.code, exc.read(), {k.lower(): v for k, v in exc.headers.items()})
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(str(exc)) from exc
