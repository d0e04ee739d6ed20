from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "linli.marketing"
    label = "marketing"
    verbose_name = "Marketing: coupons and promotions"

    def ready(self) -> None:
        from linli.orders.events import order_changed

        from .receivers import coupon_back_on_order_changed

        order_changed.connect(coupon_back_on_order_changed, dispatch_uid="marketing-coupon-back")
