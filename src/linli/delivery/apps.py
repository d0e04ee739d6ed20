from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "linli.delivery"
    label = "delivery"
    verbose_name = "Delivery"
