"""Django's PostgreSQL backend with one change: the alive bypass (see `base.py`).

Set as the database ENGINE by settings whenever DATABASE_URL is a PostgreSQL address."""
