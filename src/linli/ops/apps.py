from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class OpsConfig(AppConfig):
    """Templates (listed before django.contrib.admin, so they override admin's), the CSS,
    the dashboard's selectors and the shared admin helpers. No models."""

    default = True  # the app config of "linli.ops" (OpsAdminConfig is named in full)
    name = "linli.ops"
    label = "ops"
    verbose_name = "Linli operator back office"


class OpsAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with `admin.site` being an `OpsSite`: every app's admin.py keeps
    registering with `admin.site` / `@admin.register` and lands on the back office."""

    default = False
    default_site = "linli.ops.sites.OpsSite"
