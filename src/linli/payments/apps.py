from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "linli.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from linli.orders.events import order_changed

        from .receivers import close_payments_of_cancelled_order

        order_changed.connect(close_payments_of_cancelled_order,
                              dispatch_uid="payments-close-on-cancel")
