from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "linli.aftersales"
    label = "aftersales"
    verbose_name = "After-sales requests, complaints and arbitration"
