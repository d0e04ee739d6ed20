import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded photos go to a throwaway folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
