from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "linli.notifications"
    label = "notifications"
    verbose_name = "Notifications: in-app messages, SMS and push, preferences"

    def ready(self) -> None:
        from linli.orders.events import order_changed

        from .order_notices import on_order_changed

        order_changed.connect(on_order_changed, dispatch_uid="notifications-order-news")
