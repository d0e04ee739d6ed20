"""Keys generated for the tests (never a real provider's), and the providers' side of
the signatures, written independently of the SDKs our adapters use."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from linli.payments.gateways.support import HttpAnswer, TransportError


@dataclass(frozen=True)
class KeyPair:
    private: rsa.RSAPrivateKey

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()

    @property
    def public_pem(self) -> str:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, message: str) -> str:
        """RSA-SHA256 PKCS#1 v1.5, base64: what both Alipay RSA2 and WeChat Pay v3 use."""
        return base64.b64encode(self.private.sign(message.encode(), padding.PKCS1v15(),
                                                  hashes.SHA256())).decode()

    def verifies(self, message: str, signature: str) -> bool:
        try:
            self.private.public_key().verify(base64.b64decode(signature), message.encode(),
                                             padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True


@functools.cache
def key_pair(name: str) -> KeyPair:
    """One key pair per role for the whole run (generating RSA keys is slow)."""
    return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@dataclass
class Unreachable:
    """A transport whose provider never answers."""

    calls: list[str] = field(default_factory=list)

    def request(self, method, url, *, body=None, headers=None) -> HttpAnswer:
        self.calls.append(url)
        raise TransportError("connection refused")
