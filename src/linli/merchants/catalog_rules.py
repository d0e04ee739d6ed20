"""What a valid product is, in plain Python (no Django), whatever door it came in by.

The merchant console (JSON) and the bulk import (one spreadsheet row per product) both
build a `ProductSpec` and ask `product_validate` for the cleaned spec and every rule it
breaks, so one product is judged the same way through either door. Each broken rule is
a `RuleViolation` whose `code` is the API error code (`invalid_option_group`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

KINDS = ("goods", "service")
MAX_PRICE_FEN = 99_999_999  # 999,999.99 yuan: far above any menu, far below the column's limit
MAX_PACKAGING_FEE_FEN = 10_000  # per unit: 100 yuan
MAX_NAME = 100  # product and category names
MAX_PART_NAME = 50  # variant, option group and option names
MAX_DESCRIPTION = 500
MAX_TAGS, MAX_TAG_LENGTH = 5, 8
MAX_VARIANTS, MAX_OPTION_GROUPS, MAX_OPTIONS = 20, 10, 30
MAX_WINDOWS = 6
MIN_DURATION, MAX_DURATION = 5, 600
MAX_STOCK = 1_000_000
# Separators of the flat import format (catalog_io): names that hold them could not be
# written to a cell and read back, so variant, option and tag names may not use them.
RESERVED_CHARACTERS = "|:,;[]"

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_YUAN = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
_SIGNED_YUAN = re.compile(r"^[+-]?\d{1,9}(\.\d{1,2})?$")


class RuleViolation(ValueError):
    """One broken rule: the API error `code`, the input `field`, and what was wrong."""

    def __init__(self, code: str, field: str, **details: Any) -> None:
        self.code = code
        self.field = field
        self.details = details
        super().__init__(f"{field}: {code} {details}")


@dataclass(frozen=True)
class VariantSpec:
    name: str
    price_delta_fen: int = 0


@dataclass(frozen=True)
class OptionSpec:
    name: str
    price_delta_fen: int = 0


@dataclass(frozen=True)
class OptionGroupSpec:
    name: str
    min_choices: int
    max_choices: int
    options: tuple[OptionSpec, ...]


@dataclass(frozen=True)
class StockSpec:
    """Either a counted `quantity` or `unlimited` (made to order), never both."""

    quantity: int | None = None
    unlimited: bool = False


@dataclass(frozen=True)
class ProductSpec:
    """Everything a merchant states about one product, apart from where it is listed."""

    name: str
    price_fen: int
    description: str = ""
    kind: str = "goods"
    tags: tuple[str, ...] = ()
    availability: tuple[tuple[str, str], ...] = ()  # daily store-local windows; empty = always
    duration_minutes: int | None = None  # services only
    variants: tuple[VariantSpec, ...] = ()
    option_groups: tuple[OptionGroupSpec, ...] = ()
    stock: StockSpec | None = None  # None: leave as it is (a new product starts at 0)
    sold_out: bool = False
    packaging_fee_fen: int | None = None  # per unit; None: leave as it is (a new product: 0)


def product_validate(spec: ProductSpec) -> tuple[ProductSpec, list[RuleViolation]]:
    """The cleaned spec (names stripped, windows sorted) and every broken rule, at most one per field."""
    cleaned = replace(
        spec,
        name=spec.name.strip(),
        description=spec.description.strip(),
        tags=tuple(t.strip() for t in spec.tags),
        variants=tuple(replace(v, name=v.name.strip()) for v in spec.variants),
        option_groups=tuple(
            replace(g, name=g.name.strip(),
                    options=tuple(replace(o, name=o.name.strip()) for o in g.options))
            for g in spec.option_groups
        ),
    )
    violations: list[RuleViolation] = []
    for check in (_check_name, _check_description, _check_kind, _check_price, _check_packaging_fee,
                  _check_tags, _check_availability, _check_variants, _check_option_groups,
                  _check_stock):
        try:
            cleaned = check(cleaned)
        except RuleViolation as violation:
            violations.append(violation)
    return cleaned, violations


def name_check(name: str, *, field: str = "name", max_length: int = MAX_NAME) -> str:
    """A stripped, non-empty name of at most `max_length` characters."""
    name = name.strip()
    if not name or len(name) > max_length:
        raise RuleViolation("invalid_name", field, max_length=max_length)
    return name


def _check_name(spec: ProductSpec) -> ProductSpec:
    name_check(spec.name)
    return spec


def _check_description(spec: ProductSpec) -> ProductSpec:
    if len(spec.description) > MAX_DESCRIPTION:
        raise RuleViolation("invalid_description", "description", max_length=MAX_DESCRIPTION)
    return spec


def _check_kind(spec: ProductSpec) -> ProductSpec:
    if spec.kind not in KINDS:
        raise RuleViolation("invalid_kind", "kind", allowed=list(KINDS))
    if spec.kind == "service":
        duration = spec.duration_minutes
        if duration is None or not MIN_DURATION <= duration <= MAX_DURATION:
            raise RuleViolation("invalid_duration", "duration_minutes",
                                min=MIN_DURATION, max=MAX_DURATION)
    elif spec.duration_minutes is not None:
        raise RuleViolation("invalid_duration", "duration_minutes", reason="goods_have_no_duration")
    return spec


def _check_price(spec: ProductSpec) -> ProductSpec:
    if not 0 <= spec.price_fen <= MAX_PRICE_FEN:
        raise RuleViolation("invalid_price", "price_fen", min=0, max=MAX_PRICE_FEN)
    return spec


def _check_packaging_fee(spec: ProductSpec) -> ProductSpec:
    fee = spec.packaging_fee_fen
    if fee is not None and (isinstance(fee, bool) or not 0 <= fee <= MAX_PACKAGING_FEE_FEN):
        raise RuleViolation("invalid_price", "packaging_fee_fen", min=0, max=MAX_PACKAGING_FEE_FEN)
    return spec


def _check_tags(spec: ProductSpec) -> ProductSpec:
    if len(spec.tags) > MAX_TAGS:
        raise RuleViolation("invalid_tags", "tags", reason="too_many", max=MAX_TAGS)
    for tag in spec.tags:
        if not tag or len(tag) > MAX_TAG_LENGTH:
            raise RuleViolation("invalid_tags", "tags", reason="length", tag=tag,
                                max_length=MAX_TAG_LENGTH)
        _no_reserved(tag, "invalid_tags", "tags")
    if len(set(spec.tags)) != len(spec.tags):
        raise RuleViolation("invalid_tags", "tags", reason="duplicate")
    return spec


def time_minutes(hhmm: str) -> int:
    """Minutes after midnight of "HH:MM" (00:00 to 24:00); ValueError if malformed."""
    match = _TIME.match(hhmm) if isinstance(hhmm, str) else None
    if match is None:
        raise ValueError(hhmm)
    hours, minutes = int(match[1]), int(match[2])
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(hhmm)
    return hours * 60 + minutes


def _check_availability(spec: ProductSpec) -> ProductSpec:
    """Daily windows must each start before they end and must not overlap (touching is fine)."""
    if len(spec.availability) > MAX_WINDOWS:
        raise RuleViolation("invalid_availability", "availability", reason="too_many",
                            max=MAX_WINDOWS)
    spans = []
    for window in spec.availability:
        try:
            start_s, end_s = window
            start, end = time_minutes(start_s), time_minutes(end_s)
        except (TypeError, ValueError):
            raise RuleViolation("invalid_availability", "availability", reason="format",
                                window=list(window) if isinstance(window, tuple | list) else window,
                                expected="HH:MM") from None
        if start >= end:
            raise RuleViolation("invalid_availability", "availability",
                                reason="start_not_before_end", window=[start_s, end_s])
        spans.append((start, end))
    spans.sort()
    for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
        if next_start < end:
            raise RuleViolation("invalid_availability", "availability", reason="overlap")
    hhmm = tuple((f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}") for s, e in spans)
    return replace(spec, availability=hhmm)


def _check_variants(spec: ProductSpec) -> ProductSpec:
    """规格: unique names, and no size may cost less than nothing."""
    if len(spec.variants) > MAX_VARIANTS:
        raise RuleViolation("invalid_variant", "variants", reason="too_many", max=MAX_VARIANTS)
    for variant in spec.variants:
        _part_name(variant.name, "invalid_variant", "variants")
        price = spec.price_fen + variant.price_delta_fen
        if abs(variant.price_delta_fen) > MAX_PRICE_FEN or not 0 <= price <= MAX_PRICE_FEN:
            raise RuleViolation("invalid_variant", "variants", reason="price_out_of_range",
                                variant=variant.name, price_fen=price)
    if len({v.name for v in spec.variants}) != len(spec.variants):
        raise RuleViolation("invalid_variant", "variants", reason="duplicate_name")
    return spec


def _check_option_groups(spec: ProductSpec) -> ProductSpec:
    """加料 groups: 0 <= min <= max <= number of options, max >= 1; options never discount."""
    if len(spec.option_groups) > MAX_OPTION_GROUPS:
        raise RuleViolation("invalid_option_group", "option_groups", reason="too_many",
                            max=MAX_OPTION_GROUPS)
    for group in spec.option_groups:
        _part_name(group.name, "invalid_option_group", "option_groups")
        where = {"group": group.name, "min_choices": group.min_choices,
                 "max_choices": group.max_choices, "options": len(group.options)}
        if len(group.options) > MAX_OPTIONS:
            raise RuleViolation("invalid_option_group", "option_groups",
                                reason="too_many_options", max=MAX_OPTIONS, **where)
        if not (0 <= group.min_choices <= group.max_choices <= len(group.options)
                and group.max_choices >= 1):
            raise RuleViolation("invalid_option_group", "option_groups", reason="choices", **where)
        for option in group.options:
            _part_name(option.name, "invalid_option_group", "option_groups")
            if not 0 <= option.price_delta_fen <= MAX_PRICE_FEN:
                raise RuleViolation("invalid_option_group", "option_groups",
                                    reason="option_price", option=option.name, **where)
        if len({o.name for o in group.options}) != len(group.options):
            raise RuleViolation("invalid_option_group", "option_groups",
                                reason="duplicate_option", **where)
    if len({g.name for g in spec.option_groups}) != len(spec.option_groups):
        raise RuleViolation("invalid_option_group", "option_groups", reason="duplicate_name")
    return spec


def _check_stock(spec: ProductSpec) -> ProductSpec:
    stock_check(kind=spec.kind, stock=spec.stock)
    return spec


def stock_check(*, kind: str, stock: StockSpec | None) -> None:
    """Goods are counted or unlimited; services have no stock at all (unlimited is a no-op)."""
    if stock is None:
        return
    if kind == "service":
        if stock.quantity is not None:
            raise RuleViolation("invalid_stock", "stock", reason="services_have_no_stock")
        return
    if (stock.quantity is None) == (not stock.unlimited):
        raise RuleViolation("invalid_stock", "stock", reason="quantity_or_unlimited")
    if stock.quantity is not None and not 0 <= stock.quantity <= MAX_STOCK:
        raise RuleViolation("invalid_stock", "stock", reason="range", min=0, max=MAX_STOCK)


def _part_name(name: str, code: str, field: str) -> None:
    if not name or len(name) > MAX_PART_NAME:
        raise RuleViolation(code, field, reason="name_length", name=name, max_length=MAX_PART_NAME)
    _no_reserved(name, code, field)


def _no_reserved(text: str, code: str, field: str) -> None:
    if any(ch in RESERVED_CHARACTERS for ch in text):
        raise RuleViolation(code, field, reason="reserved_character", name=text,
                            reserved=RESERVED_CHARACTERS)


# --- money as merchants write it --------------------------------------------------------

def yuan_to_fen(text: str, *, signed: bool = False) -> int:
    """"32.00" -> 3200, exactly (Decimal, never float). At most two decimals; a sign only
    when `signed` (price deltas). ValueError otherwise."""
    text = text.strip()
    if not (_SIGNED_YUAN if signed else _YUAN).match(text):
        raise ValueError(text)
    return int(Decimal(text) * 100)


def fen_to_yuan(fen: int, *, signed: bool = False) -> str:
    """3200 -> "32.00"; with `signed`, 500 -> "+5.00", -300 -> "-3.00" and 0 -> "0"."""
    if signed and fen == 0:
        return "0"
    sign = "-" if fen < 0 else ("+" if signed else "")
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
