from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "linli.web"
    label = "web"
    verbose_name = "Web apps"

    def ready(self) -> None:
        from linli.orders.events import order_changed

        from .events import on_order_changed

        # Every order change reaches the consumer page, the store console and the rider.
        order_changed.connect(on_order_changed, dispatch_uid="web.publish_order_event")
