from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "linli.finance"
    label = "finance"
    verbose_name = "Finance: commission, settlement and statements"

    def ready(self) -> None:
        from linli.orders.events import order_changed

        from .receivers import on_order_changed

        order_changed.connect(on_order_changed, dispatch_uid="finance_order_changed")
