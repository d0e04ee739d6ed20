from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "linli.core"
    label = "core"
    verbose_name = "Linli core"

    def ready(self) -> None:
        from django.contrib import admin

        admin.site.site_header = "邻里运营后台 Linli Ops"
        admin.site.site_title = "Linli Ops"
        admin.site.index_title = "Operations"
