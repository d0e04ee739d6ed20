from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "linli.notifications"
    label = "notifications"
    verbose_name = "Notifications: in-app messages and preferences"
