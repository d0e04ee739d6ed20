"""Periodic search-index upkeep (scheduled by Celery beat; see settings.CELERY_BEAT_SCHEDULE)."""

from linli.celery import app

from .search_index import search_index_refresh

REFRESH_LIMIT = 10_000  # per kind and run (~30 s at most); a bigger backlog takes several runs


@app.task
def search_index_refresh_task() -> int:
    """Catch up with changed stores and products, including late-committed ones (recheck),
    so the index stays fresh even in a city where nobody searched for a while."""
    return search_index_refresh(limit=REFRESH_LIMIT, recheck=True)


@app.task
def recommendations_train_task() -> int:
    """Nightly: retrain "guess you like" and "also bought" on the last year of orders."""
    from .recommendations import recommendations_train

    return recommendations_train().rows_written
