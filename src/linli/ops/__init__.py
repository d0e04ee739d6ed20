"""Operator back office at /ops/: Django's admin with a dashboard, the merchant
application queue and read-only order views (see docs/ops.md)."""
