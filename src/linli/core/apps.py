from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "linli.core"
    label = "core"
    verbose_name = "Linli core"

    def ready(self) -> None:
        # Before the URL conf imports the API modules and their schemas (core/schema_build.py).
        from linli.core.schema_build import defer_schema_builds

        defer_schema_builds()
