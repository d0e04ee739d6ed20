"""The web surfaces: consumer H5 at `/`, merchant console at `/m/`, rider app at `/r/`."""

from django.urls import path

from . import views_alerts as stock_alerts
from . import views_consumer as consumer
from . import views_consumer_address as consumer_address
from . import views_coupons as coupons
from . import views_engagement as engagement
from . import views_fulfilment as fulfilment
from . import views_member as member
from . import views_merchant as merchant
from . import views_merchant_menu as merchant_menu
from . import views_merchant_promotions as merchant_promotions
from . import views_merchant_staff as merchant_staff
from . import views_merchant_store as merchant_store
from . import views_pos as pos
from . import views_pos_conflicts as pos_conflicts
from . import views_pos_qr as pos_qr
from . import views_rider as rider
from . import views_stock as stock
from . import views_transfers as stock_transfers
from . import views_wallet as wallet

urlpatterns = [
    # consumer H5
    path("", consumer.home, name="web-home"),
    path("search", consumer.search, name="web-search"),
    path("login", consumer.login_sms, name="web-login"),
    path("logout", consumer.logout_view, name="web-logout"),
    path("stores/<str:store_id>", consumer.store_page, name="web-store"),
    path("stores/<str:store_id>/cart", consumer.cart_change, name="web-cart"),
    path("stores/<str:store_id>/checkout", consumer.checkout, name="web-checkout"),
    path("stores/<str:store_id>/coupons/<str:template_id>/claim", coupons.claim, name="web-coupon-claim"),
    path("me/coupons", coupons.my_coupons, name="web-my-coupons"),
    path("orders", consumer.order_list, name="web-orders"),
    path("orders/<str:order_id>", consumer.order_detail, name="web-order"),
    path("orders/<str:order_id>/pay", wallet.cashier, name="web-order-pay"),  # the cashier
    path("orders/<str:order_id>/pay/return", wallet.pay_return, name="web-order-pay-return"),
    path("orders/<str:order_id>/reorder", consumer.order_reorder_view, name="web-order-reorder"),
    path("orders/<str:order_id>/<str:action>", consumer.order_action, name="web-order-action"),
    path("events/orders/<str:order_id>", consumer.order_events, name="web-order-events"),
    # dine-in by table QR (fulfilment modes)
    path("t/leave", fulfilment.table_leave, name="web-table-leave"),
    path("t/<str:table_id>", fulfilment.table_landing, name="web-table"),
    path("t/<str:table_id>/tab", fulfilment.tab_page, name="web-table-tab"),
    path("t/<str:table_id>/tab/pay", fulfilment.tab_pay, name="web-table-tab-pay"),
    path("me/member-code", member.member_code, name="web-member-code"),
    path("s/<str:store_id>/p/<str:product_id>", member.shelf_product, name="web-shelf-product"),  # shelf QR
    path("me/wallet", wallet.wallet, name="web-wallet"),
    path("me/wallet/topup", wallet.wallet_topup, name="web-wallet-topup"),
    path("me/wallet/withdraw", wallet.wallet_withdraw, name="web-wallet-withdraw"),
    path("me/addresses", consumer_address.addresses, name="web-addresses"),
    path("me/addresses/new", consumer_address.address_new, name="web-address-new"),
    path("me/addresses/<str:address_id>", consumer_address.address_edit, name="web-address-edit"),
    path("me/addresses/<str:address_id>/delete", consumer_address.address_delete,
         name="web-address-delete"),
    path("me/addresses/<str:address_id>/default", consumer_address.address_default,
         name="web-address-default"),
    # merchant console
    path("m/", merchant.console, name="web-merchant"),
    path("m/login", merchant.login_view, name="web-merchant-login"),
    path("m/logout", merchant.logout_view, name="web-merchant-logout"),
    path("m/tables", fulfilment.tables_page, name="web-merchant-tables"),
    path("m/pickup", fulfilment.pickup_search, name="web-merchant-pickup"),
    path("m/orders/<str:order_id>/<str:action>", merchant.order_action, name="web-merchant-action"),
    path("m/pos", pos.pos_page, name="web-merchant-pos"),
    path("m/pos/counters", pos.pos_counter_add, name="web-merchant-pos-counter"),
    path("m/pos/identify", pos.pos_identify, name="web-merchant-pos-identify"),
    path("m/pos/sales", pos.pos_sales, name="web-merchant-pos-sales"),
    path("m/pos/sales/<str:sale_id>/receipt", pos.pos_receipt, name="web-merchant-pos-receipt"),
    path("m/pos/sales/<str:sale_id>/return", pos.pos_return, name="web-merchant-pos-return"),
    path("m/pos/sync", pos.pos_sync, name="web-merchant-pos-sync"),
    path("m/pos/shelf-codes", pos.shelf_codes, name="web-merchant-shelf-codes"),
    path("m/menu", merchant_menu.menu_page, name="web-merchant-menu"),
    path("m/menu/products", merchant_menu.product_add, name="web-merchant-product-add"),
    path("m/menu/categories", merchant_menu.category_add, name="web-merchant-category-add"),
    path("m/menu/products/<str:product_id>", merchant_menu.product_edit, name="web-merchant-product"),
    path("m/menu/products/<str:product_id>/sold-out", merchant_menu.product_sold_out,
         name="web-merchant-sold-out"),
    path("m/stock/<str:product_id>", stock.stock_page, name="web-merchant-stock"),
    path("m/store", merchant_store.store_page, name="web-merchant-store"),
    path("m/store/save", merchant_store.store_save, name="web-merchant-store-save"),
    path("m/store/pause", merchant_store.store_pause, name="web-merchant-pause"),
    path("m/store/resume", merchant_store.store_resume, name="web-merchant-resume"),
    *merchant_promotions.urlpatterns,
    path("m/staff", merchant_staff.staff_page, name="web-merchant-staff"),
    path("m/staff/add", merchant_staff.member_add, name="web-merchant-staff-add"),
    path("m/staff/<str:user_id>/role", merchant_staff.member_role, name="web-merchant-staff-role"),
    path("m/staff/<str:user_id>/remove", merchant_staff.member_remove,
         name="web-merchant-staff-remove"),
    path("events/stores/<str:store_id>", merchant.store_events, name="web-store-events"),
    *engagement.urlpatterns,  # lottery, inbox, merchant campaigns (issue 9)
    # rider app
    path("r/", rider.dashboard, name="web-rider"),
    path("r/login", rider.login_view, name="web-rider-login"),
    path("r/logout", rider.logout_view, name="web-rider-logout"),
    path("r/shift", rider.shift, name="web-rider-shift"),
    path("r/tasks/<str:task_id>/<str:action>", rider.task_action, name="web-rider-task"),
    path("events/rider", rider.rider_events, name="web-rider-events"),
    # the counter's gateway QR and the POS pages of issue 8 (pos helper)
    path("m/pos/sales/<str:sale_id>/status", pos_qr.pos_sale_status, name="web-merchant-pos-sale-status"),
    path("m/pos/sales/<str:sale_id>/cancel-qr", pos_qr.pos_sale_cancel_qr, name="web-merchant-pos-cancel-qr"),
    path("m/pos/conflicts", pos_conflicts.conflicts_page, name="web-merchant-pos-conflicts"),
    path("m/pos/conflicts/<str:conflict_id>/resolve", pos_conflicts.conflict_resolve,
         name="web-merchant-pos-conflict-resolve"),
    path("m/transfers", stock_transfers.transfers_page, name="web-merchant-transfers"),
    path("m/transfers/new", stock_transfers.transfer_create, name="web-merchant-transfer-new"),
    path("m/transfers/<str:transfer_id>/<str:action>", stock_transfers.transfer_step, name="web-merchant-transfer-step"),
    path("m/alerts", stock_alerts.alerts_page, name="web-merchant-alerts"),
    path("m/alerts/<str:alert_id>/acknowledge", stock_alerts.alert_acknowledge, name="web-merchant-alert-ack"),
]

# group-buy vouchers (marketing, issue 9): deal pages, /me/vouchers, the /m/vouchers console
from . import views_vouchers  # noqa: E402

urlpatterns += views_vouchers.urlpatterns

# reviews and favourites (reviews, issue 10): write a review, helpful, favourites, /m/reviews
from . import views_reviews  # noqa: E402

urlpatterns += views_reviews.urlpatterns

# after-sales and complaints (aftersales, issue 10): requests, timeline, queues
from . import views_aftersales  # noqa: E402

urlpatterns += views_aftersales.urlpatterns

# complaints (aftersales.complaints, issue 10): file one, follow it, /me/complaints
from . import views_complaints  # noqa: E402

urlpatterns += views_complaints.urlpatterns

# bookings (issue 11): service appointments; table reservations and the walk-in queue
from . import views_bookings, views_bookings_tables  # noqa: E402

urlpatterns += views_bookings.urlpatterns + views_bookings_tables.urlpatterns

# finance (issue 12): the merchant's settlement pages
from . import views_finance  # noqa: E402

urlpatterns += views_finance.urlpatterns

# analytics (issue 13): the merchant console's numbers and charts
from . import views_analytics  # noqa: E402

urlpatterns += views_analytics.urlpatterns

# data rights (issue 14): /me/privacy, download my data, delete my account
from . import views_privacy  # noqa: E402

urlpatterns += views_privacy.urlpatterns
