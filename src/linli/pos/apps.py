from django.apps import AppConfig


class PosConfig(AppConfig):
    name = "linli.pos"
    label = "pos"
    verbose_name = "POS counter and points"

    def ready(self) -> None:
        from linli.accounts.events import phone_verified
        from linli.orders.events import order_changed
        from linli.payments.services import counter_payment_changed

        from .gateway_sales import on_counter_payment_changed
        from .phone_sales import on_phone_verified
        from .receivers import points_on_order_changed

        order_changed.connect(points_on_order_changed, dispatch_uid="pos-points-on-order")
        phone_verified.connect(on_phone_verified, dispatch_uid="pos-phone-sales-attach")
        counter_payment_changed.connect(on_counter_payment_changed, dispatch_uid="pos-counter-gateway")
