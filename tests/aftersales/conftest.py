import pytest

from tests.web.conftest import chromium  # noqa: F401  (the browser test's fixture)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded photos go to a throwaway folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
