from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "linli.merchants"
    label = "merchants"
    verbose_name = "Merchants"
