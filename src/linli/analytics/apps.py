from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "linli.analytics"
    label = "analytics"
    verbose_name = "Analytics: behaviour events and reports"
