"""Bulk menu import and export: one flat sheet, one row per product, as CSV or XLSX.

The format (documented with an example in docs/catalog.md) is what a merchant edits in
Excel or WPS. Import is all or nothing: every row is parsed and checked by the same
rules as the console (`catalog_rules`) before anything is written; any error answers
`menu_import_invalid` with one entry per bad cell. Export then import gives back the
same menu.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import DomainError, InvalidInput

from . import catalog
from . import catalog_rules as rules
from .catalog_rules import OptionGroupSpec, OptionSpec, ProductSpec, StockSpec, VariantSpec
from .menu_cache import menu_changed
from .models import MenuCategory, Product, Store
from .uploads import FileTooLarge

MAX_ROWS = 2_000
MAX_SCANNED_ROWS = 10 * MAX_ROWS
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024  # a 5 MB zip may inflate to far more: refuse first
MAX_LISTED_ERRORS = 200

# (key, Chinese header) in sheet order; the exported header is "分类(category)".
COLUMNS = [
    ("category", "分类"), ("name", "名称"), ("description", "描述"), ("kind", "类型"),
    ("price_yuan", "价格"), ("tags", "标签"), ("variants", "规格"), ("options", "加料"),
    ("stock", "库存"), ("available_windows", "供应时段"), ("duration_minutes", "服务时长"),
    ("sold_out", "售罄"),
]
REQUIRED_COLUMNS = ("category", "name", "price_yuan")
# Where a rule's field shows up in the sheet.
FIELD_COLUMNS = {"price_fen": "price_yuan", "availability": "available_windows",
                 "option_groups": "options"}
KIND_WORDS = {"": "goods", "goods": "goods", "商品": "goods", "service": "service", "服务": "service"}
UNLIMITED_WORDS = {"unlimited", "不限", "无限"}
# Spreadsheet programs run cells that start like a formula: such text is written behind an
# apostrophe in CSV (and as plain text in XLSX), and the apostrophe is dropped on import.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_GROUP = re.compile(r"^(?P<name>[^\[\]]*)\[(?P<min>\d{1,3})-(?P<max>\d{1,3})\]:(?P<options>.*)$")


class MenuImportInvalid(InvalidInput):
    code = "menu_import_invalid"
    message = _("The menu file has errors; nothing was imported.")


class UnsupportedFile(InvalidInput):
    code = "unsupported_file"
    message = _("Upload the menu as a CSV or XLSX file.")


class MenuTooManyRows(InvalidInput):
    code = "menu_too_many_rows"
    message = _("A menu file can hold at most 2,000 products.")


class MenuFileEmpty(InvalidInput):
    code = "menu_file_empty"
    message = _("The menu file has no product rows.")


class MissingColumn(InvalidInput):
    code = "missing_column"
    message = _("A required column is missing: category, name and price_yuan are needed.")


class UnknownColumn(InvalidInput):
    code = "unknown_column"
    message = _("This column is not part of the menu format.")


class DuplicateColumn(InvalidInput):
    code = "duplicate_column"
    message = _("This column appears more than once.")


class DuplicateRow(InvalidInput):
    code = "duplicate_row"
    message = _("Another row has the same category and product name.")


class InvalidSoldOut(InvalidInput):
    code = "invalid_sold_out"
    message = _("Sold out is 0 or 1.")


CELL_ERRORS: dict[str, type[DomainError]] = {
    **catalog.RULE_ERRORS,
    **{cls.code: cls for cls in (MissingColumn, UnknownColumn, DuplicateColumn, DuplicateRow,
                                     InvalidSoldOut)},
}


@dataclass(frozen=True)
class MenuRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    category: str
    spec: ProductSpec


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    categories_created: int = 0

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed, "categories_created": self.categories_created}


@dataclass(frozen=True)
class ExportedFile:
    content: bytes
    content_type: str
    filename: str


# --- cells: text <-> specs (pure) -------------------------------------------------------

def _split(text: str, separator: str) -> list[str]:
    return [part.strip() for part in text.split(separator) if part.strip()]


def _named_delta(text: str, code: str, field: str, *, signed: bool) -> tuple[str, int]:
    """"加蛋:+2.00" -> ("加蛋", 200); no amount means 0."""
    name, _sep, amount = text.partition(":")
    try:
        return name.strip(), rules.yuan_to_fen(amount, signed=signed) if amount.strip() else 0
    except ValueError:
        raise rules.RuleViolation(code, field, reason="format", value=text) from None


def variants_parse(text: str) -> tuple[VariantSpec, ...]:
    """"大份:+5.00|小份:-3.00" """
    return tuple(VariantSpec(*_named_delta(part, "invalid_variant", "variants", signed=True))
                 for part in _split(text, "|"))


def options_parse(text: str) -> tuple[OptionGroupSpec, ...]:
    """"加料[0-3]:加蛋:+2.00,加肠:+3.00;辣度[1-1]:微辣:0,中辣:0" """
    groups = []
    for part in _split(text, ";"):
        match = _GROUP.match(part)
        if match is None:
            raise rules.RuleViolation("invalid_option_group", "option_groups", reason="format",
                                      value=part, expected="名称[最少-最多]:选项:+0.00,选项:+0.00")
        options = tuple(
            OptionSpec(*_named_delta(o, "invalid_option_group", "option_groups", signed=True))
            for o in _split(match["options"], ","))
        groups.append(OptionGroupSpec(match["name"], int(match["min"]), int(match["max"]), options))
    return tuple(groups)


def windows_parse(text: str) -> tuple[tuple[str, str], ...]:
    """"06:00-10:30|17:00-20:00" """
    windows = []
    for part in _split(text, "|"):
        start, sep, end = part.partition("-")
        if not sep:
            raise rules.RuleViolation("invalid_availability", "availability", reason="format",
                                      value=part, expected="HH:MM-HH:MM")
        windows.append((start.strip(), end.strip()))
    return tuple(windows)


def _whole_number(text: str, code: str, field: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise rules.RuleViolation(code, field, reason="format", value=text)
    return int(text)


def stock_parse(text: str) -> StockSpec | None:
    """"unlimited" (or 不限), a whole number, or blank: keep the stock as it is."""
    if not text:
        return None
    if text.lower() in UNLIMITED_WORDS:
        return StockSpec(unlimited=True)
    return StockSpec(quantity=_whole_number(text, "invalid_stock", "stock"))


def row_spec(cells: dict[str, str]) -> tuple[ProductSpec | None, list[rules.RuleViolation]]:
    """One sheet row as a spec, or every malformed cell of it (the rules come after)."""
    violations: list[rules.RuleViolation] = []

    def cell(column: str, parse: Any, code: str, field: str, default: Any = None) -> Any:
        text = cells.get(column, "")
        try:
            return parse(text)
        except rules.RuleViolation as violation:
            violations.append(violation)
        except (ValueError, KeyError):
            violations.append(rules.RuleViolation(code, field, value=text))
        return default

    kind = cell("kind", lambda t: KIND_WORDS[t.lower()], "invalid_kind", "kind", "goods")
    stock = cell("stock", stock_parse, "invalid_stock", "stock")
    values = {
        "name": cells.get("name", ""), "description": cells.get("description", ""), "kind": kind,
        "price_fen": cell("price_yuan", rules.yuan_to_fen, "invalid_price", "price_fen", 0),
        "tags": tuple(_split(cells.get("tags", ""), "|")),
        "availability": cell("available_windows", windows_parse, "invalid_availability",
                             "availability", ()),
        "duration_minutes": cell("duration_minutes", lambda t: _whole_number(
            t, "invalid_duration", "duration_minutes") if t else None,
            "invalid_duration", "duration_minutes"),
        "variants": cell("variants", variants_parse, "invalid_variant", "variants", ()),
        "option_groups": cell("options", options_parse, "invalid_option_group",
                              "option_groups", ()),
        # a service has no stock; "unlimited" in its row says the same thing
        "stock": None if kind == "service" and stock == StockSpec(unlimited=True) else stock,
        "sold_out": cell("sold_out", lambda t: {"": False, "0": False, "1": True}[t],
                         "invalid_sold_out", "sold_out", False),
    }
    return (None if violations else ProductSpec(**values)), violations


def spec_cells(category: str, spec: ProductSpec) -> dict[str, str]:
    """The sheet row of a product: the inverse of `row_spec`."""
    stock = spec.stock
    return {
        "category": category, "name": spec.name, "description": spec.description,
        "kind": spec.kind, "price_yuan": rules.fen_to_yuan(spec.price_fen),
        "tags": "|".join(spec.tags),
        "variants": "|".join(f"{v.name}:{rules.fen_to_yuan(v.price_delta_fen, signed=True)}"
                             for v in spec.variants),
        "options": ";".join(
            f"{g.name}[{g.min_choices}-{g.max_choices}]:" + ",".join(
                f"{o.name}:{rules.fen_to_yuan(o.price_delta_fen, signed=True)}" for o in g.options)
            for g in spec.option_groups),
        "stock": "" if stock is None else ("unlimited" if stock.unlimited else str(stock.quantity)),
        "available_windows": "|".join(f"{start}-{end}" for start, end in spec.availability),
        "duration_minutes": "" if spec.duration_minutes is None else str(spec.duration_minutes),
        "sold_out": "1" if spec.sold_out else "0",
    }


# --- reading a file ----------------------------------------------------------------------

def _cell_text(value: Any) -> str:
    """A cell as the text a merchant sees: XLSX gives numbers, booleans and times."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, int | Decimal):
        text = str(value)
    elif isinstance(value, datetime | time):
        text = value.strftime("%H:%M")
    else:
        text = str(value)
    text = text.strip()
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_STARTS:
        text = text[1:]
    return text


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    if b"\x00" in content:
        raise UnsupportedFile(reason="binary")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnsupportedFile(reason="encoding")
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise UnsupportedFile(reason="csv", detail=str(exc)) from None


def _xlsx_rows(content: bytes) -> Iterator[list[Any]]:
    # openpyxl is imported where a sheet is read or written: ~7 MB per web worker otherwise.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
                raise UnsupportedFile(reason="unpacked_too_large")
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            for values in sheet.iter_rows(max_col=len(COLUMNS) + 20, values_only=True):
                yield list(values)
        finally:
            workbook.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, ValueError,
            TypeError, AttributeError, OSError, SyntaxError, EOFError, NotImplementedError,
            RuntimeError) as exc:  # openpyxl's ways to refuse a file
        raise UnsupportedFile(reason="xlsx", detail=type(exc).__name__) from None


def read_table(upload: UploadedFile) -> list[tuple[int, list[str]]]:
    """(row number, cells) of every non-blank row, header first. CSV or XLSX by content
    (an XLSX is a zip) or else by the file name; anything else is `unsupported_file`."""
    size = upload.size or 0
    if size > MAX_FILE_BYTES:
        raise FileTooLarge(size_bytes=size, max_bytes=MAX_FILE_BYTES)
    upload.seek(0)
    content = upload.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise FileTooLarge(max_bytes=MAX_FILE_BYTES)
    name = (upload.name or "").lower()
    if content.startswith(b"PK\x03\x04"):
        rows: Iterator[list[Any]] = _xlsx_rows(content)
    elif name.endswith(".csv"):
        rows = _csv_rows(content)
    else:
        raise UnsupportedFile(filename=upload.name or "")
    table: list[tuple[int, list[str]]] = []
    for number, values in enumerate(rows, start=1):
        if number > MAX_SCANNED_ROWS:  # blank rows cost time too
            raise MenuTooManyRows(max_rows=MAX_ROWS)
        cells = [_cell_text(v) for v in values]
        if not any(cells):
            continue
        table.append((number, cells))
        if len(table) > MAX_ROWS + 1:
            raise MenuTooManyRows(max_rows=MAX_ROWS)
    return table


# --- checking every row -----------------------------------------------------------------

def _header_key(text: str) -> str | None:
    """"分类(category)", "分类（category）", "分类" and "Category" all mean category."""
    text = text.replace("（", "(").replace("）", ")").strip().lower()
    inner = re.search(r"\(([^)]*)\)", text)
    candidates = [text, inner[1].strip() if inner else "", text.split("(")[0].strip()]
    for key, chinese in COLUMNS:
        if any(c in (key, chinese) for c in candidates):
            return key
    return None


def _problem(row: int, column: str, code: str, **details: Any) -> dict[str, Any]:
    return {"row": row, "column": column, "code": code, "message": str(CELL_ERRORS[code].message),
            **({"details": details} if details else {})}


def rows_check(table: list[tuple[int, list[str]]]) -> tuple[list[MenuRow], list[dict[str, Any]]]:
    """Parse and check every row. Returns the rows, cleaned, and every problem found."""
    if not table:
        raise MenuFileEmpty()
    header_row, header = table[0]
    keys: list[str | None] = [_header_key(h) if h else None for h in header]
    problems = [_problem(header_row, header[i] or f"#{i + 1}", "unknown_column")
                for i, key in enumerate(keys) if header[i] and key is None]
    problems += [_problem(header_row, header[i], "duplicate_column")
                 for i, key in enumerate(keys) if key is not None and key in keys[:i]]
    problems += [_problem(header_row, key, "missing_column")
                 for key in REQUIRED_COLUMNS if key not in keys]
    if problems:
        return [], problems
    if len(table) == 1:
        raise MenuFileEmpty()
    rows: list[MenuRow] = []
    seen: dict[tuple[str, str], int] = {}
    for number, values in table[1:]:
        stray = [i for i, v in enumerate(values) if v and (i >= len(keys) or keys[i] is None)]
        problems += [_problem(number, f"#{i + 1}", "unknown_column") for i in stray]
        cells = {key: v for key, v in zip(keys, values, strict=False) if key}
        try:
            category = rules.name_check(cells.get("category", ""), field="category", max_length=50)
        except rules.RuleViolation as bad_category:
            problems.append(_problem(number, "category", bad_category.code, **bad_category.details))
            category = ""
        spec, violations = row_spec(cells)
        if spec is not None:
            spec, violations = rules.product_validate(spec)
        for violation in violations:
            column = FIELD_COLUMNS.get(violation.field, violation.field)
            problems.append(_problem(number, column, violation.code, **violation.details))
        if spec is None or violations or not category:
            continue
        first = seen.setdefault((category, spec.name), number)
        if first != number:
            problems.append(_problem(number, "name", "duplicate_row", first_row=first))
            continue
        rows.append(MenuRow(row=number, category=category, spec=spec))
    return rows, problems


# --- import -----------------------------------------------------------------------------

def menu_import(*, actor: User, store_id: str, upload: UploadedFile, mode: str) -> ImportResult:
    """Check the whole file, then write it in one transaction. `merge` adds and updates
    products matched by (category, name); `replace` also unlists every product missing
    from the file, drops categories missing from it, and takes the file's order."""
    catalog.store_for_member(actor=actor, store_id=store_id, owner_only=True)
    rows, problems = rows_check(read_table(upload))
    if problems:
        raise MenuImportInvalid(errors=problems[:MAX_LISTED_ERRORS], error_count=len(problems))
    with transaction.atomic():
        store = catalog.store_for_member(actor=actor, store_id=store_id, owner_only=True, lock=True)
        return _menu_write(store=store, rows=rows, replace_all=mode == "replace", actor=actor)


def _menu_write(*, store: Store, rows: list[MenuRow], replace_all: bool,
                actor: User) -> ImportResult:
    result = ImportResult()
    menu_changed(store.pk)
    categories = {c.name: c for c in MenuCategory.objects.filter(store=store)}
    products = catalog.products_with_parts(Product.objects.filter(store=store)).order_by(
        "-is_available", "sort", "id")  # a listed product wins a (category, name) match
    by_key: dict[tuple[int, str], Product] = {}
    next_sort: dict[int, int] = {}
    for product in products:
        if product.menu_category_id is not None:
            by_key.setdefault((product.menu_category_id, product.name), product)
            next_sort[product.menu_category_id] = max(next_sort.get(product.menu_category_id, 0),
                                                      product.sort + 1)
    file_order = list(dict.fromkeys(row.category for row in rows))
    last_sort = max((c.sort for c in categories.values()), default=-1)
    for name in file_order:
        if name not in categories:
            last_sort += 1
            categories[name] = MenuCategory.objects.create(store=store, name=name, sort=last_sort)
            result.categories_created += 1
    placed: dict[int, int] = {}  # category id -> products placed so far (replace mode's order)
    writes: list[catalog.ProductWrite] = []
    kept: set[int] = set()
    for row in rows:
        category = categories[row.category]
        product = by_key.get((category.pk, row.spec.name))
        position = placed[category.pk] = placed.get(category.pk, -1) + 1
        if product is None:
            sort = position if replace_all else next_sort.get(category.pk, 0)
            next_sort[category.pk] = max(next_sort.get(category.pk, 0), sort + 1)
            writes.append(catalog.ProductWrite(
                Product(store=store, menu_category=category, sort=sort), row.spec))
            result.created += 1
            continue
        kept.add(product.pk)
        write = _product_merge(product, row.spec, sort=position if replace_all else product.sort)
        if write is None:
            result.unchanged += 1
        else:
            writes.append(write)
            result.updated += 1
    catalog.products_write(writes, actor=actor)
    kept.update(w.product.pk for w in writes)
    if replace_all:
        result.removed = Product.objects.filter(store=store, is_available=True).exclude(
            pk__in=kept).update(is_available=False, updated_at=timezone.now())  # seen by search
        MenuCategory.objects.filter(store=store).exclude(name__in=file_order).delete()
        for sort, name in enumerate(file_order):
            categories[name].sort = sort
        MenuCategory.objects.bulk_update([categories[n] for n in file_order], ["sort"])
    return result


def _product_merge(product: Product, spec: ProductSpec, *, sort: int) -> catalog.ProductWrite | None:
    """The write that brings a matched product in line with its row; None if it already is."""
    current = catalog.product_spec_of(product)
    if spec.stock is None and spec.kind == Product.Kind.GOODS:  # a blank cell keeps the count
        spec = replace(spec, stock=current.stock)
    if spec == current and product.is_available and product.sort == sort:
        return None
    product.is_available, product.sort = True, sort
    return catalog.ProductWrite(product, spec, stock_now=catalog.stock_now_of(product),
                                variants=spec.variants != current.variants,
                                option_groups=spec.option_groups != current.option_groups)


# --- export -----------------------------------------------------------------------------

def menu_rows(*, store: Store) -> list[dict[str, str]]:
    """The listed products of the store's menu, as sheet rows in menu order."""
    products = catalog.products_with_parts(
        Product.objects.filter(store=store, is_available=True, menu_category__isnull=False)
    ).order_by("menu_category__sort", "menu_category_id", "sort", "id")
    return [spec_cells(p.menu_category.name, catalog.product_spec_of(p))  # type: ignore[union-attr]
            for p in products]


def _formula_safe(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def menu_export(*, actor: User, store_id: str, file_format: str) -> ExportedFile:
    """The menu as a file a merchant can edit and import again (owner or staff)."""
    store = catalog.store_for_member(actor=actor, store_id=store_id, owner_only=False)
    header = [f"{chinese}({key})" for key, chinese in COLUMNS]
    lines = [[row[key] for key, _chinese in COLUMNS] for row in menu_rows(store=store)]
    filename = f"menu-{store.public_id}.{file_format}"
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([_formula_safe(cell) for cell in line] for line in lines)
        return ExportedFile(buffer.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8",
                            filename)
    from openpyxl import Workbook  # see _xlsx_rows

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "menu"
    for line in [header, *lines]:
        sheet.append(line)
    for row in sheet.iter_rows():
        for cell in row:
            cell.data_type = "s"  # text, never a formula, whatever it starts with
    buffer_xlsx = io.BytesIO()
    workbook.save(buffer_xlsx)
    return ExportedFile(
        buffer_xlsx.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename)
