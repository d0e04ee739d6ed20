"""Push goes to the console provider's outbox, read by the tests like a phone would."""

from __future__ import annotations

import pytest

from linli.notifications.providers import ConsolePushProvider, get_push_provider


@pytest.fixture(autouse=True)
def push_outbox(settings):
    settings.LINLI_PUSH_PROVIDER = "linli.notifications.providers.ConsolePushProvider"
    get_push_provider.cache_clear()
    ConsolePushProvider.outbox.clear()
    yield ConsolePushProvider.outbox
    get_push_provider.cache_clear()
