"""EAN-13 barcodes, pure Python: the check digit (GS1 mod 10, weights 1 and 3)."""

from __future__ import annotations


def ean13_check_digit(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def ean13_valid(code: str) -> bool:
    """13 ASCII digits whose last one is the check digit of the other twelve."""
    return (isinstance(code, str) and len(code) == 13 and code.isascii() and code.isdigit()
            and ean13_check_digit(code[:12]) == code[12])
