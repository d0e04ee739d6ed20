"""The web surfaces: consumer H5 at `/`, merchant console at `/m/`, rider app at `/r/`."""

from django.urls import path

from . import views_consumer as consumer
from . import views_merchant as merchant
from . import views_rider as rider

urlpatterns = [
    # consumer H5
    path("", consumer.home, name="web-home"),
    path("search", consumer.search, name="web-search"),
    path("login", consumer.login_sms, name="web-login"),
    path("logout", consumer.logout_view, name="web-logout"),
    path("stores/<str:store_id>", consumer.store_page, name="web-store"),
    path("stores/<str:store_id>/cart", consumer.cart_change, name="web-cart"),
    path("stores/<str:store_id>/checkout", consumer.checkout, name="web-checkout"),
    path("orders", consumer.order_list, name="web-orders"),
    path("orders/<str:order_id>", consumer.order_detail, name="web-order"),
    path("orders/<str:order_id>/pay", consumer.order_pay, name="web-order-pay"),
    path("orders/<str:order_id>/<str:action>", consumer.order_action, name="web-order-action"),
    path("events/orders/<str:order_id>", consumer.order_events, name="web-order-events"),
    # merchant console
    path("m/", merchant.console, name="web-merchant"),
    path("m/login", merchant.login_view, name="web-merchant-login"),
    path("m/logout", merchant.logout_view, name="web-merchant-logout"),
    path("m/orders/<str:order_id>/<str:action>", merchant.order_action, name="web-merchant-action"),
    path("events/stores/<str:store_id>", merchant.store_events, name="web-store-events"),
    # rider app
    path("r/", rider.dashboard, name="web-rider"),
    path("r/login", rider.login_view, name="web-rider-login"),
    path("r/logout", rider.logout_view, name="web-rider-logout"),
    path("r/shift", rider.shift, name="web-rider-shift"),
    path("r/tasks/<str:task_id>/<str:action>", rider.task_action, name="web-rider-task"),
    path("events/rider", rider.rider_events, name="web-rider-events"),
]
