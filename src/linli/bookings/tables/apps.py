from django.apps import AppConfig


class TablesConfig(AppConfig):
    name = "linli.bookings.tables"
    label = "bookings_tables"
    verbose_name = "Bookings: table reservations and walk-in queue"
