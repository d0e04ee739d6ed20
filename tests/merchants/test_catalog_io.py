"""Menu import and export: the round trip through CSV and XLSX, merge and replace, and
every bad file or cell answered with its row, column and code while nothing is saved."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from linli.merchants.catalog_io import COLUMNS
from linli.merchants.models import MenuCategory, Product
from tests.fixtures import Api, token_api
from tests.merchants.test_catalog import (
    add_category,
    call,
    catalog_counts,
    noodles,
    owner_of,
    shop_store,
    staff_of,
)

pytestmark = pytest.mark.django_db

HEADER = [f"{zh}({key})" for key, zh in COLUMNS]


def export(api: Api, store, file_format: str = "csv"):
    answer = api.get(f"/merchant/stores/{store.public_id}/menu/export", {"format": file_format})
    assert answer.status_code == 200, answer.content
    return answer


def import_file(api: Api, store, content: bytes, name: str = "menu.csv", mode: str = "merge"):
    return api.client.post(f"/api/v1/merchant/stores/{store.public_id}/menu/import?mode={mode}",
                           {"file": SimpleUploadedFile(name, content)}, headers=api._headers(None))


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(**cells: str) -> list[str]:
    """A sheet row: the named cells, the rest blank (kind goods, price 10.00 by default)."""
    values = {"category": "热菜", "name": "牛肉面", "price_yuan": "10.00", **cells}
    return [values.get(key, "") for key, _ in COLUMNS]


def csv_table(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def rich_store():
    """A store whose menu uses every feature of the format, built through the console."""
    store = shop_store()
    owner = owner_of(store)
    hot, cold, care = (add_category(owner, store, n) for n in ("热菜", "凉菜", "护理"))
    products = [
        noodles(hot),
        noodles(hot, name="=HYPERLINK(\"http://evil\")", description="-- 公式不执行 --", tags=[],
                variants=[], option_groups=[], availability=[], stock={"unlimited": True}),
        {"menu_category": cold, "name": "拍黄瓜, \"爽口\"", "description": "第一行\n第二行",
         "price_fen": 1250, "stock": {"quantity": 0}, "sold_out": True},
        {"menu_category": care, "name": "头部按摩", "kind": "service", "price_fen": 9900,
         "duration_minutes": 60, "tags": ["新品"]},
    ]
    for body in products:
        answer = owner.post(f"/merchant/stores/{store.public_id}/products", body)
        assert answer.status_code == 201, answer.content
    return store, owner


# --- export -------------------------------------------------------------------------------

def test_csv_export_is_an_attachment_with_friendly_headers_and_one_row_per_product(rich_store):
    store, owner = rich_store
    answer = export(owner, store, "csv")
    assert answer["Content-Disposition"] == f'attachment; filename="menu-{store.public_id}.csv"'
    assert answer["Content-Type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())  # Excel opens UTF-8 with a BOM
    table = csv_table(answer.content)
    assert table[0] == HEADER and table[0][0] == "分类(category)"
    first = dict(zip([k for k, _ in COLUMNS], table[1], strict=True))
    assert first == {
        "category": "热菜", "name": "牛肉面", "description": "手工拉面", "kind": "goods",
        "price_yuan": "28.00", "tags": "招牌|辣", "variants": "大份:+5.00|小份:-3.00",
        "options": "加料[0-2]:加蛋:+2.00,加肠:+3.00;辣度[1-1]:微辣:0,中辣:0", "stock": "30",
        "available_windows": "06:00-10:30|17:00-21:00", "duration_minutes": "", "sold_out": "0"}
    assert table[2][1] == "'=HYPERLINK(\"http://evil\")"  # a formula-looking cell stays text
    assert [r[1] for r in table[1:]] == ["牛肉面", "'=HYPERLINK(\"http://evil\")", "拍黄瓜, \"爽口\"", "头部按摩"]
    assert table[4][3:5] == ["service", "99.00"] and table[4][8] == "" and table[4][10] == "60"


def test_xlsx_export_holds_the_same_rows_as_text(rich_store):
    store, owner = rich_store
    answer = export(owner, store, "xlsx")
    assert answer["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    rows = [[c if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert rows[2][1] == "=HYPERLINK(\"http://evil\")"
    assert sheet.cell(row=3, column=2).data_type == "s"  # text, not a formula
    assert [r[1:5] for r in rows[1:]] == [
        [cell.removeprefix("'") for cell in r[1:5]] for r in csv_table(export(owner, store, "csv").content)[1:]]


def test_staff_may_export_but_outsiders_may_not(rich_store):
    store, _ = rich_store
    assert export(token_api(staff_of(store)), store).status_code == 200
    stranger = owner_of(shop_store(name="隔壁店"))
    answer = stranger.get(f"/merchant/stores/{store.public_id}/menu/export")
    assert answer.status_code == 404 and answer.json()["code"] == "store_not_found"
    bad = owner_of(store).get(f"/merchant/stores/{store.public_id}/menu/export", {"format": "pdf"})
    assert bad.status_code == 422


# --- round trip ---------------------------------------------------------------------------

@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_gives_back_the_same_menu(rich_store, file_format):
    store, owner = rich_store
    exported = export(owner, store, file_format).content
    ids_before = sorted(Product.objects.values_list("public_id", flat=True))

    again = import_file(owner, store, exported, f"menu.{file_format}")
    assert again.status_code == 200, again.content
    assert again.json() == {"mode": "merge", "created": 0, "updated": 0, "unchanged": 4,
                            "removed": 0, "categories_created": 0}
    assert sorted(Product.objects.values_list("public_id", flat=True)) == ids_before

    twin = shop_store(name="新分店")
    twin_owner = owner_of(twin)
    copied = import_file(twin_owner, twin, exported, f"menu.{file_format}", mode="replace")
    assert copied.status_code == 200, copied.content
    assert copied.json()["created"] == 4 and copied.json()["categories_created"] == 3
    assert export(twin_owner, twin, "csv").content == export(owner, store, "csv").content
    menus = [Api().get(f"/stores/{s.public_id}/menu").json()["sections"] for s in (store, twin)]

    def shape(sections):
        return [(s["name"], [{k: v for k, v in p.items() if k != "id"} | {
            "variants": [(v["name"], v["price_fen"]) for v in p["variants"]],
            "option_groups": [(g["name"], g["min_choices"], g["max_choices"],
                               [(o["name"], o["price_delta_fen"]) for o in g["options"]])
                              for g in p["option_groups"]]} for p in s["products"]]) for s in sections]

    assert shape(menus[0]) == shape(menus[1])


def test_merge_updates_matched_rows_adds_new_ones_and_keeps_blank_stock(rich_store):
    store, owner = rich_store
    table = csv_table(export(owner, store).content)
    table[1][4] = "29.50"  # 牛肉面 costs more
    table[1][8] = ""  # blank stock: keep the count of 30
    table.append(row(category="饮品", name="酸梅汤", price_yuan="6", stock="unlimited"))
    answer = import_file(owner, store, csv_bytes(table[1:]))
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"mode": "merge", "created": 1, "updated": 1, "unchanged": 3,
                             "removed": 0, "categories_created": 1}
    beef = Product.objects.get(name="牛肉面")
    assert (beef.price_fen, beef.stock.quantity) == (2950, 30)
    drink = Product.objects.get(name="酸梅汤")
    assert (drink.price_fen, drink.stock.unlimited, drink.menu_category.name) == (600, True, "饮品")
    assert list(MenuCategory.objects.filter(store=store).values_list("name", flat=True)) == [
        "热菜", "凉菜", "护理", "饮品"]


def test_replace_unlists_what_the_file_leaves_out_and_takes_its_order(rich_store):
    store, owner = rich_store
    table = csv_table(export(owner, store).content)
    kept = [table[4], table[1]]  # 头部按摩 (护理) first, then 牛肉面 (热菜); 凉菜 is gone
    answer = import_file(owner, store, csv_bytes(kept), mode="replace")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"mode": "replace", "created": 0, "updated": 0, "unchanged": 2,
                             "removed": 2, "categories_created": 0}
    menu = Api().get(f"/stores/{store.public_id}/menu").json()["sections"]
    assert [(s["name"], [p["name"] for p in s["products"]]) for s in menu] == [
        ("护理", ["头部按摩"]), ("热菜", ["牛肉面"])]
    assert not MenuCategory.objects.filter(name="凉菜").exists()
    assert Product.objects.filter(store=store).count() == 4  # unlisted, not deleted


def test_a_matching_unlisted_product_is_listed_again(rich_store):
    store, owner = rich_store
    beef = Product.objects.get(name="牛肉面")
    call(owner, "delete", f"/merchant/products/{beef.public_id}")
    answer = import_file(owner, store, export(owner, store).content + csv_bytes(
        [row(name="牛肉面", price_yuan="28")], header=[])[3:])
    assert answer.status_code == 200, answer.content
    beef.refresh_from_db()
    assert beef.is_available and answer.json()["updated"] == 1


def test_headers_in_english_or_chinese_alone_and_gbk_files_are_accepted():
    store = shop_store()
    owner = owner_of(store)
    english = csv_bytes([["热菜", "宫保鸡丁", "32"]], header=["Category", "name", "price_yuan"])
    assert import_file(owner, store, english).json()["created"] == 1
    chinese = csv_bytes([["热菜", "鱼香肉丝", "28.5", "招牌"]], header=["分类", "名称", "价格", "标签（tags）"],
                        encoding="gb18030")
    answer = import_file(owner, store, chinese)
    assert answer.status_code == 200, answer.content
    dish = Product.objects.get(name="鱼香肉丝")
    assert (dish.price_fen, dish.tags, dish.stock.quantity) == (2850, ["招牌"], 0)


def test_xlsx_numbers_and_times_typed_by_a_merchant_are_read_as_text():
    store = shop_store()
    owner = owner_of(store)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["热菜", "回锅肉", None, None, 36.8, None, None, None, 12, None, None, 1])
    sheet.append(["热菜", "米饭", None, "goods", 2, None, None, None, "unlimited", None, None, 0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    answer = import_file(owner, store, buffer.getvalue(), "菜单.xlsx")
    assert answer.status_code == 200, answer.content
    pork = Product.objects.get(name="回锅肉")
    assert (pork.price_fen, pork.stock.quantity, pork.is_sold_out) == (3680, 12, True)


# --- bad files and cells: nothing saved -------------------------------------------------------

BAD_CELLS = [
    ("price with three decimals", {"price_yuan": "32.123"}, "price_yuan", "invalid_price"),
    ("negative price", {"price_yuan": "-1.00"}, "price_yuan", "invalid_price"),
    ("price in scientific notation", {"price_yuan": "1e3"}, "price_yuan", "invalid_price"),
    ("price with a currency sign", {"price_yuan": "¥32"}, "price_yuan", "invalid_price"),
    ("blank price", {"price_yuan": ""}, "price_yuan", "invalid_price"),
    ("blank category", {"category": ""}, "category", "invalid_name"),
    ("blank name", {"name": ""}, "name", "invalid_name"),
    ("unknown kind", {"kind": "rental"}, "kind", "invalid_kind"),
    ("service without duration", {"kind": "service"}, "duration_minutes", "invalid_duration"),
    ("duration not a number", {"kind": "service", "duration_minutes": "半小时"}, "duration_minutes", "invalid_duration"),
    ("six tags", {"tags": "a|b|c|d|e|f"}, "tags", "invalid_tags"),
    ("variant without a name", {"variants": ":+5.00"}, "variants", "invalid_variant"),
    ("variant amount malformed", {"variants": "大份:+5.001"}, "variants", "invalid_variant"),
    ("variant below zero", {"variants": "小份:-11.00"}, "variants", "invalid_variant"),
    ("options without brackets", {"options": "加料:加蛋:+2.00"}, "options", "invalid_option_group"),
    ("options min above max", {"options": "加料[2-1]:加蛋:+2.00,加肠:+3.00"}, "options", "invalid_option_group"),
    ("options max above count", {"options": "加料[0-3]:加蛋:+2.00"}, "options", "invalid_option_group"),
    ("option lowering the price", {"options": "加料[0-1]:去蛋:-2.00"}, "options", "invalid_option_group"),
    ("negative stock", {"stock": "-3"}, "stock", "invalid_stock"),
    ("stock as words", {"stock": "很多"}, "stock", "invalid_stock"),
    ("stock on a service", {"kind": "service", "duration_minutes": "30", "stock": "5"}, "stock", "invalid_stock"),
    ("window without a dash", {"available_windows": "06:00"}, "available_windows", "invalid_availability"),
    ("overlapping windows", {"available_windows": "06:00-10:30|10:00-11:00"}, "available_windows", "invalid_availability"),
    ("window ending before it starts", {"available_windows": "10:30-06:00"}, "available_windows", "invalid_availability"),
    ("sold out as yes", {"sold_out": "yes"}, "sold_out", "invalid_sold_out"),
]


def _assert_refused(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert body["code"] == code and body["message"]
    return body


@pytest.mark.parametrize(("label", "cells", "column", "code"), BAD_CELLS, ids=[c[0] for c in BAD_CELLS])
def test_a_bad_cell_refuses_the_whole_file(rich_store, label, cells, column, code):
    store, owner = rich_store
    before = catalog_counts()
    content = csv_bytes([row(name="新菜一", price_yuan="12"), row(**{"name": "新菜二", **cells})])
    body = _assert_refused(import_file(owner, store, content), 422, "menu_import_invalid")
    problems = body["details"]["errors"]
    assert [(p["row"], p["column"], p["code"]) for p in problems] == [(3, column, code)]
    assert problems[0]["message"]
    assert catalog_counts() == before


def test_every_bad_row_is_reported_at_once_with_its_row_number(rich_store):
    store, owner = rich_store
    before = catalog_counts()
    content = csv_bytes([
        row(price_yuan="abc"),
        [""] * len(COLUMNS),  # blank rows are skipped but still counted
        row(name="夫妻肺片", stock="-1", tags="一二三四五六七八九"),
        row(name="夫妻肺片"),
        row(name="夫妻肺片"),
    ])
    body = _assert_refused(import_file(owner, store, content), 422, "menu_import_invalid")
    assert [(p["row"], p["column"], p["code"]) for p in body["details"]["errors"]] == [
        (2, "price_yuan", "invalid_price"), (4, "stock", "invalid_stock"),
        (6, "name", "duplicate_row")]
    assert body["details"]["error_count"] == 3
    assert catalog_counts() == before


@pytest.mark.parametrize(("header", "problem"), [
    (["分类(category)", "价格(price_yuan)"], ("name", "missing_column")),
    ([*HEADER, "备注(note)"], ("备注(note)", "unknown_column")),
    ([*HEADER, "name"], ("name", "duplicate_column")),
])
def test_headers_must_be_the_formats(header, problem):
    store = shop_store()
    before = catalog_counts()
    body = _assert_refused(import_file(owner_of(store), store, csv_bytes([["热菜", "10"]], header=header)),
                           422, "menu_import_invalid")
    assert [(p["row"], p["column"], p["code"]) for p in body["details"]["errors"]] == [(1, *problem)]
    assert catalog_counts() == before


def _broken_xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content"), [
    ("menu.txt", b"category,name,price_yuan\n"),
    ("menu.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    ("menu.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),
    ("menu.xlsx", b"just text pretending"),
    ("menu.xlsx", _broken_xlsx()),
    ("menu.csv", b"\x00\x01\x02binary"),
    ("menu.csv", b"\xff\xfe\xfa\xfb not any encoding \x81"),
])
def test_files_that_are_not_csv_or_xlsx_are_refused(name, content):
    store = shop_store()
    before = catalog_counts()
    _assert_refused(import_file(owner_of(store), store, content, name), 422, "unsupported_file")
    assert catalog_counts() == before


def test_size_and_row_limits():
    store = shop_store()
    owner = owner_of(store)
    before = catalog_counts()
    huge = csv_bytes([row(description="长" * 1000)] * 2000)  # over 5 MB
    assert len(huge) > 5 * 1024 * 1024
    _assert_refused(import_file(owner, store, huge), 413, "file_too_large")
    too_many = csv_bytes([row(name=f"菜{i}") for i in range(2001)])
    _assert_refused(import_file(owner, store, too_many), 422, "menu_too_many_rows")
    _assert_refused(import_file(owner, store, csv_bytes([])), 422, "menu_file_empty")
    _assert_refused(import_file(owner, store, b"", "menu.csv"), 422, "menu_file_empty")
    assert catalog_counts() == before


def test_a_full_two_thousand_row_menu_imports(django_assert_max_num_queries):
    store = shop_store()
    owner = owner_of(store)
    rows = [row(category=f"分类{i % 20}", name=f"菜{i}", price_yuan=f"{i % 90 + 1}.50", stock=str(i),
                variants="大份:+2.00|小份:-0.50", options="加料[0-1]:加蛋:+1.00") for i in range(2000)]
    answer = import_file(owner, store, csv_bytes(rows))
    assert answer.status_code == 200, answer.content
    assert answer.json()["created"] == 2000
    with django_assert_max_num_queries(60):  # re-import: compared in memory, nothing written
        again = import_file(owner, store, csv_bytes(rows))
    assert again.json()["unchanged"] == 2000


def test_only_the_owner_may_import(rich_store):
    store, owner = rich_store
    before = catalog_counts()
    content = csv_bytes([row(name="员工加的菜")])
    _assert_refused(import_file(token_api(staff_of(store)), store, content), 403, "permission_denied")
    _assert_refused(import_file(owner_of(shop_store(name="隔壁店")), store, content), 404, "store_not_found")
    assert catalog_counts() == before
    bad_mode = import_file(owner, store, content, mode="wipe")
    assert bad_mode.status_code == 422 and catalog_counts() == before


def test_the_example_in_the_docs_imports():
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "catalog.md").read_text()
    example = page.split("```csv\n")[1].split("```")[0]
    store = shop_store()
    answer = import_file(owner_of(store), store, example.encode())
    assert answer.status_code == 200, answer.content
    assert answer.json()["created"] == 3
    beef = Product.objects.get(name="牛肉面")
    assert [g.name for g in beef.option_groups.all()] == ["加料", "辣度"]
    assert Product.objects.get(name="头部按摩").duration_minutes == 60
