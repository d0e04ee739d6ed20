from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "linli.bookings"
    label = "bookings"
    verbose_name = "Bookings: service appointments"
