from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "linli.finance"
    label = "finance"
    verbose_name = "Finance: commission, settlement and statements"
