"""Receipts as plain text for ESC/POS printers (pure Python): 32 columns (58 mm paper)
or 42 (80 mm), Chinese characters counted two columns wide, as thermal printers print them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

WIDTHS = (32, 42)


def text_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def clip(text: str, width: int) -> str:
    out, used = [], 0
    for ch in text:
        w = text_width(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out)


def left_right(left: str, right: str, width: int) -> str:
    left = clip(left, max(width - text_width(right) - 1, 1))
    return left + " " * (width - text_width(left) - text_width(right)) + right


def centre(text: str, width: int) -> str:
    text = clip(text, width)
    pad = (width - text_width(text)) // 2
    return " " * pad + text


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


@dataclass
class ReceiptLine:
    name: str
    quantity: int
    unit_fen: int
    amount_fen: int


@dataclass
class Receipt:
    store: str
    sale_id: str
    when: str  # store-local, "2026-11-25 14:03"
    cashier: str
    lines: list[ReceiptLine] = field(default_factory=list)
    items_fen: int = 0
    member_discount_fen: int = 0
    points_value_fen: int = 0
    paid_fen: int = 0
    method: str = ""
    member: str = ""  # masked phone
    points_earned: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # translated captions


def escpos_text(receipt: Receipt, *, width: int = 32) -> str:
    if width not in WIDTHS:
        raise ValueError(f"width must be one of {WIDTHS}")
    label = receipt.labels.get
    rule = "-" * width
    out = [centre(receipt.store, width), centre(receipt.sale_id, width), receipt.when,
           left_right(label("cashier", "Cashier"), receipt.cashier, width), rule]
    for line in receipt.lines:
        out.append(clip(line.name, width))
        out.append(left_right(f"  {line.quantity} x {yuan(line.unit_fen)}", yuan(line.amount_fen), width))
    out.append(rule)
    out.append(left_right(label("items", "Items"), yuan(receipt.items_fen), width))
    if receipt.member_discount_fen:
        out.append(left_right(label("member_discount", "Member price"), yuan(-receipt.member_discount_fen), width))
    if receipt.points_value_fen:
        out.append(left_right(label("points_paid", "Points"), yuan(-receipt.points_value_fen), width))
    out.append(left_right(label("paid", "Paid"), yuan(receipt.paid_fen), width))
    out.append(left_right(label("method", "Method"), receipt.method, width))
    if receipt.member:
        out.append(left_right(label("member", "Member"), receipt.member, width))
        out.append(left_right(label("points_earned", "Points earned"), str(receipt.points_earned), width))
    out.append(rule)
    out.append(centre(label("thanks", "Thank you"), width))
    return "\n".join(out) + "\n"
