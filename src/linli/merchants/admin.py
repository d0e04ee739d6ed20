"""Back office for merchants, stores, catalog, and the merchant application queue.

Applications are read-only pages; the decision buttons (approve / reject / needs changes)
call the onboarding services, which check the state table and the operator's role and
write the events. Licence and ID images are served only through `document_view` here,
to staff allowed to view the application — never from /media/.
"""

from __future__ import annotations

import copy

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, Value, When
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    QueryDict,
)
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from linli.core.errors import DomainError, InvalidInput
from linli.ops.admin_tools import (
    EventHistoryInline,
    PublicIdAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    admin_link,
    change_url,
    money,
)

from . import onboarding
from .menu_cache import menu_changed
from .models import (
    ApplicationDocument,
    ApplicationEvent,
    MenuCategory,
    Merchant,
    MerchantApplication,
    MerchantMember,
    Product,
    Store,
    StoreCategory,
)
from .onboarding import mask_bank_account

S = MerchantApplication.Status


class MemberInline(admin.TabularInline):
    model = MerchantMember
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Merchant)
class MerchantAdmin(PublicIdAdmin):
    list_display = ("name", "public_id", "legal_name", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "legal_name", "=public_id")
    inlines = [MemberInline]
    readonly_fields = ("public_id", "created_at", "updated_at")


@admin.register(Store)
class StoreAdmin(PublicIdAdmin):
    list_display = ("name", "public_id", "merchant_link", "city_code", "category", "status", "rating",
                    "sales_30d", "min_order")
    list_filter = ("status", "city_code", "category")
    search_fields = ("name", "address", "=public_id", "=merchant__public_id", "merchant__name")
    autocomplete_fields = ("merchant",)
    readonly_fields = ("public_id", "h3_cell", "rating", "rating_count", "sales_30d", "created_at",
                       "updated_at")
    list_select_related = ("category", "merchant")
    date_hierarchy = "created_at"

    @admin.display(description=_("merchant"), ordering="merchant__name")
    def merchant_link(self, obj: Store) -> str:
        return admin_link(obj.merchant)

    @admin.display(description=_("minimum order"), ordering="min_order_fen")
    def min_order(self, obj: Store) -> str:
        return money(obj.min_order_fen)


class MenuEditAdmin(admin.ModelAdmin):
    """Saving or deleting a product or menu category here changes the store's public menu,
    which is cached (merchants.menu_cache): give the store a new menu version."""

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        menu_changed(obj.store_id)

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        super().delete_model(request, obj)
        menu_changed(obj.store_id)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        stores = set(queryset.values_list("store_id", flat=True))
        super().delete_queryset(request, queryset)
        menu_changed(*stores)


@admin.register(Product)
class ProductAdmin(MenuEditAdmin, PublicIdAdmin):
    list_display = ("name", "public_id", "store_link", "kind", "price", "is_available", "is_sold_out")
    list_filter = ("kind", "is_available", "is_sold_out")
    search_fields = ("name", "=public_id", "=store__public_id")
    autocomplete_fields = ("store", "menu_category")
    list_select_related = ("store",)

    @admin.display(description=_("store"), ordering="store__name")
    def store_link(self, obj: Product) -> str:
        return admin_link(obj.store)

    @admin.display(description=_("price"), ordering="price_fen")
    def price(self, obj: Product) -> str:
        return money(obj.price_fen)


@admin.register(StoreCategory)
class StoreCategoryAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "name_en", "slug", "sort")
    list_editable = ("sort",)
    search_fields = ("name_zh", "name_en", "slug")
    ordering = ("sort", "slug")


@admin.register(MenuCategory)
class MenuCategoryAdmin(MenuEditAdmin):
    list_display = ("name", "store_link", "sort")
    search_fields = ("name", "=store__public_id", "store__name")
    autocomplete_fields = ("store",)
    list_select_related = ("store",)

    @admin.display(description=_("store"), ordering="store__name")
    def store_link(self, obj: MenuCategory) -> str:
        return admin_link(obj.store)


# --- the merchant application queue ------------------------------------------------------------

class ApplicationEventInline(EventHistoryInline):
    model = ApplicationEvent
    fields = readonly_fields = ("created_at", "action", "transition", "actor_display", "actor_role", "note")


class ApplicationDocumentInline(ReadOnlyInline):
    """The images, each shown through the permission-checking document view."""

    model = ApplicationDocument
    verbose_name_plural = _("documents")
    fields = readonly_fields = ("preview", "kind", "public_id", "content_type", "size_bytes", "created_at")

    @admin.display(description=_("image"))
    def preview(self, obj: ApplicationDocument) -> str:
        url = reverse("admin:merchants_merchantapplication_document",
                      args=(obj.application.public_id, obj.public_id), current_app=self.admin_site.name)
        return format_html('<a class="ops-doc" href="{}" target="_blank" rel="noopener">'
                           '<img src="{}" alt="{}"></a>', url, url, obj.get_kind_display())

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("application")


DECISIONS = ("approve", "reject", "request_changes")


@admin.register(MerchantApplication)
class MerchantApplicationAdmin(ReadOnlyAdminMixin, PublicIdAdmin):
    """The queue: submitted applications first, the longest waiting at the top. Pages are
    read-only (the change form refuses edits); decisions go through `decide_view`."""

    change_form_template = "admin/merchants/merchantapplication/change_form.html"
    list_display = ("public_id", "legal_name", "store_name", "city_code", "status_badge", "submitted_at",
                    "decided_at")
    list_display_links = ("public_id", "legal_name")
    list_filter = ("status", "city_code", "category")
    search_fields = ("=public_id", "legal_name", "store_name", "licence_number", "=applicant__phone")
    exclude = ("bank_account_number",)
    list_select_related = ("category",)
    inlines = [ApplicationDocumentInline, ApplicationEventInline]
    fieldsets = (
        (None, {"fields": ("public_id", "status", "applicant_link", "submitted_at", "decided_at",
                           "decision_note", "created_at", "updated_at")}),
        (_("Business"), {"fields": ("legal_name", "licence_number", "contact_name", "contact_phone",
                                    "category", "city_code")}),
        (_("First store"), {"fields": ("store_name", "store_address", "store_lat", "store_lng",
                                       "store_phone")}),
        (_("Settlement account"), {"fields": ("bank_account_name", "bank_name", "bank_account")}),
        (_("Result"), {"fields": ("merchant_link", "store_link")}),
    )

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).annotate(queue_rank=Case(
            When(status=S.SUBMITTED, then=Value(0)), When(status=S.NEEDS_CHANGES, then=Value(1)),
            When(status=S.DRAFT, then=Value(2)), default=Value(3), output_field=IntegerField()))

    def get_ordering(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return (F("queue_rank").asc(), F("submitted_at").asc(nulls_last=True), "-created_at")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = [f.name for f in self.model._meta.fields if f.name not in ("bank_account_number", "id")]
        return [*fields, "bank_account", "applicant_link", "merchant_link", "store_link"]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: MerchantApplication) -> str:
        return format_html('<span class="ops-status ops-status-{}">{}</span>', obj.status,
                           obj.get_status_display())

    @admin.display(description=_("bank account"))
    def bank_account(self, obj: MerchantApplication) -> str:
        return mask_bank_account(obj.bank_account_number)

    @admin.display(description=_("applicant"))
    def applicant_link(self, obj: MerchantApplication) -> str:
        return admin_link(obj.applicant)

    @admin.display(description=_("merchant"))
    def merchant_link(self, obj: MerchantApplication) -> str:
        return admin_link(obj.merchant)

    @admin.display(description=_("store"))
    def store_link(self, obj: MerchantApplication) -> str:
        return admin_link(obj.store)


    def may_decide(self, request: HttpRequest) -> bool:
        """Shown the buttons: staff granted change rights on applications. The services then
        also require the operator platform role."""
        return request.user.has_perm("merchants.change_merchantapplication")

    # --- extra pages --------------------------------------------------------------------------

    def get_urls(self):  # type: ignore[no-untyped-def]
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<str:object_id>/decide/", self.admin_site.admin_view(self.decide_view),
                 name=f"{prefix}_decide"),
            path("<str:object_id>/documents/<str:document_id>/",
                 self.admin_site.admin_view(self.document_view), name=f"{prefix}_document"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        application = self.get_object(request, object_id)
        context = {"may_decide": self.may_decide(request), "decisions_open": False, **(extra_context or {})}
        if application is not None:
            context["decisions_open"] = application.status == S.SUBMITTED
            context["decide_url"] = reverse("admin:merchants_merchantapplication_decide",
                                            args=(application.public_id,), current_app=self.admin_site.name)
        return super().change_view(request, object_id, form_url, context)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST decision=approve|reject|request_changes (+ note): one onboarding service call.
        A refused decision re-renders the page with the service's message and its status."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        application = self.get_object(request, object_id)
        if application is None:
            raise Http404
        if not (self.has_view_permission(request, application) and self.may_decide(request)):
            raise PermissionDenied
        decision = request.POST.get("decision", "")
        note = request.POST.get("note", "")
        try:
            if decision == "approve":
                application = onboarding.application_approve(operator=request.user,  # type: ignore[arg-type]
                                                             application_id=application.public_id)
            elif decision == "reject":
                application = onboarding.application_reject(operator=request.user,  # type: ignore[arg-type]
                                                            application_id=application.public_id,
                                                            reason=note)
            elif decision == "request_changes":
                application = onboarding.application_request_changes(
                    operator=request.user, application_id=application.public_id, note=note)  # type: ignore[arg-type]
            else:
                raise InvalidInput(_("Choose approve, reject or needs changes."), field="decision")
        except DomainError as exc:
            return self._decision_refused(request, application, exc, decision=decision, note=note)
        done = {"approve": _("Approved: the merchant and its first store now exist."),
                "reject": _("Rejected. The applicant sees your reason."),
                "request_changes": _("Sent back to the applicant for changes.")}[decision]
        messages.success(request, done)
        return redirect(change_url(application, self.admin_site.name))

    def _decision_refused(self, request: HttpRequest, application: MerchantApplication, exc: DomainError,
                          *, decision: str, note: str) -> HttpResponse:
        page_request = copy.copy(request)
        page_request.method = "GET"
        page_request.POST = QueryDict()
        response = self.change_view(page_request, application.public_id, extra_context={
            "decision_error": exc.message, "decision_code": exc.code, "decision_note": note,
            "decision": decision})
        response.status_code = exc.status
        return response

    def document_view(self, request: HttpRequest, object_id: str, document_id: str) -> HttpResponse:
        """One uploaded image, to staff who may view the application; nothing is public."""
        application = self.get_object(request, object_id)
        if application is None:
            raise Http404
        if not self.has_view_permission(request, application):
            raise PermissionDenied
        document = application.documents.filter(public_id=document_id).first()
        if document is None or not document.file:
            raise Http404
        try:
            handle = document.file.storage.open(document.file.name, "rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(handle, content_type=document.content_type)
        response["Content-Disposition"] = f'inline; filename="{document.public_id}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response

