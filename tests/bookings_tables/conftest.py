from tests.web.conftest import chromium  # noqa: F401  (the browser test's fixture)
