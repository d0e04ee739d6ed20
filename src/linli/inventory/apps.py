from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "linli.inventory"
    label = "inventory"
    verbose_name = "Inventory"
