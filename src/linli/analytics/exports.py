"""CSV (UTF-8 with BOM, so Excel opens Chinese correctly) and XLSX files of a report's rows."""

from __future__ import annotations

import csv
import io
from typing import Any

from .errors import UnknownExportFormat

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def export_file(fmt: str, header: list[str], rows: list[list[Any]], *, sheet: str = "analytics") -> bytes:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        ws = book.create_sheet(sheet[:31])
        ws.append(header)
        for row in rows:
            ws.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    raise UnknownExportFormat(format=fmt[:10], allowed=list(CONTENT_TYPES))
