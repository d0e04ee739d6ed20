from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "linli.marketing"
    label = "marketing"
    verbose_name = "Marketing: coupons and promotions"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from linli.orders.events import order_changed

        from .models import Promotion
        from .receivers import coupon_back_on_order_changed, promotions_changed_on_write

        order_changed.connect(coupon_back_on_order_changed, dispatch_uid="marketing-coupon-back")
        post_save.connect(promotions_changed_on_write, sender=Promotion,
                          dispatch_uid="marketing-promotions-saved")
        post_delete.connect(promotions_changed_on_write, sender=Promotion,
                            dispatch_uid="marketing-promotions-deleted")
