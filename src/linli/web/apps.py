from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "linli.web"
    label = "web"
    verbose_name = "Web apps"
