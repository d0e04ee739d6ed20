from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "linli.discovery"
    label = "discovery"
    verbose_name = "Discovery"
