"""Every order test also checks what a transition writes: `orders.services._apply` saves
only the fields a transition may change (`_TRANSITION_FIELDS`), so after each transition
the stored row must equal the order object field by field; a field set in a transition
and missing from that list fails here, in whichever test first takes that path."""

from __future__ import annotations

import pytest

from linli.orders import services
from linli.orders.models import Order


@pytest.fixture(autouse=True)
def _transitions_write_what_they_change(monkeypatch):
    apply = services._apply

    def checked(order: Order, **kwargs) -> Order:
        result = apply(order, **kwargs)
        stored = Order.objects.get(pk=result.pk)
        unsaved = {f.name for f in Order._meta.concrete_fields
                   if getattr(stored, f.attname) != getattr(result, f.attname)}
        assert not unsaved, f"{kwargs.get('action')}: changed on the order but not written: {unsaved}"
        return result

    monkeypatch.setattr(services, "_apply", checked)
