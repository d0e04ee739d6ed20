from django.apps import AppConfig


class PosConfig(AppConfig):
    name = "linli.pos"
    label = "pos"
    verbose_name = "POS counter and points"

    def ready(self) -> None:
        from linli.orders.events import order_changed

        from .receivers import points_on_order_changed

        order_changed.connect(points_on_order_changed, dispatch_uid="pos-points-on-order")
