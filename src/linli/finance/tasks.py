"""Finance background jobs (Celery beat: settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from linli.celery import app

from . import services


@app.task(acks_late=True)
def settlement_daily() -> dict[str, int]:
    """The daily settlement run (T+N per merchant) for today's business day."""
    run = services.settlement_run()
    return {"batches": run.batches, "skipped": run.skipped, "payout_fen": run.payout_fen}


@app.task(acks_late=True)
def payouts_retry() -> dict[str, int]:
    return services.payouts_retry()


@app.task(acks_late=True)
def finance_sweep() -> int:
    return services.finance_sweep()
