"""What every browser test shares: Debian's /usr/bin/chromium (never a downloaded browser),
its launch flags, page sizes, the time limit, screenshots at phone and desktop width, and
the SMS code a test consumer was sent. The `chromium` fixture is in tests/web/conftest.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from linli.accounts.sms import OutboxSmsProvider

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ.get("LINLI_SCREENSHOTS", "var/screenshots"))
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 15_000


def shot(page, name: str) -> None:
    """Screenshots of the current page at phone and desktop width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, viewport in (("375", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)


def sms_code(phone: str) -> str:
    """The last code the (outbox) SMS provider sent to this phone."""
    text = next(t for p, t in reversed(OutboxSmsProvider.outbox) if p == phone)
    return re.search(r"\d{6}", text).group()  # type: ignore[union-attr]


def submit(page, locator) -> None:
    """Click a button that posts its form, and wait until the answer page has loaded.

    On a live page (rider tasks, the store's queue) the state a test waits for next can
    first appear on the page being left: the service publishes on commit, the live part
    is re-read and swapped in while the browser still follows the post's redirect. A
    click made on that page is lost when the new one replaces it, so a post must wait
    for its own page, not for a selector.
    """
    with page.expect_navigation(wait_until="domcontentloaded"):
        locator.click()
