"""Periodic jobs of marketing."""

from __future__ import annotations

from linli.celery import app

from .campaign_services import campaigns_due as _campaigns_due


@app.task(acks_late=True)
def campaigns_due() -> dict[str, int]:
    """Launch scheduled campaigns whose time has come; close those whose window has passed."""
    return _campaigns_due()


# --- group-buy vouchers (appended by the vouchers work) ---------------------------------------

@app.task
def vouchers_sweep() -> dict[str, int]:
    """Issue vouchers of paid orders whose receiver never ran, give back the quota of orders
    that died unpaid, expire (and, when the deal says so, refund) vouchers past their end."""
    from .voucher_services import vouchers_sweep as sweep

    return sweep()


# --- coupons ------------------------------------------------------------------------------------

@app.task
def coupons_return_sweep() -> int:
    """Coupons of cancelled/refunded orders whose receiver never ran go back (services)."""
    from .services import coupons_return_sweep as sweep

    return sweep()
