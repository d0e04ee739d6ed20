from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "linli.analytics"
    label = "analytics"
    verbose_name = "Analytics: behaviour events and reports"

    def ready(self) -> None:
        from linli.orders.events import order_changed

        from .receivers import on_order_changed

        order_changed.connect(on_order_changed, dispatch_uid="analytics-order-changed")
