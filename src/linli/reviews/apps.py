from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "linli.reviews"
    label = "reviews"
    verbose_name = "Reviews, ratings and favourites"
