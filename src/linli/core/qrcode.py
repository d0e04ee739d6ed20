"""QR codes as SVG text (segno; drawn here, no external service): pickup and voucher codes,
member codes, table and POS payment codes.

segno is imported on the first code drawn, not when the views are: ~2 MB of every app
worker (docs/scaling.md, "memory") that a worker serving the API alone never needs.
No Django imports; callers mark the text safe where a template embeds it.
"""

from __future__ import annotations

import io
from typing import Any


def _code(data: str) -> Any:
    import segno  # noqa: PLC0415 - on first use, see above

    return segno.make(str(data), error="m", micro=False)  # error correction M, never a micro QR


def qr_svg(data: str, **options: Any) -> str:
    """A standalone `<svg>` element (no XML declaration); `options` are segno's SVG writer's
    (scale, border, nl, svgclass, title...)."""
    out = io.BytesIO()
    _code(data).save(out, kind="svg", xmldecl=False, svgns=True, **options)
    return out.getvalue().decode()


def qr_svg_inline(data: str, **options: Any) -> str:
    """segno's `svg_inline`: an `<svg>` for embedding in HTML (`options` as segno's)."""
    return str(_code(data).svg_inline(**options))
