from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linli.ops.admin_tools import PublicIdAdmin

from .models import AuditEntry, User


@admin.register(User)
class UserAdmin(PublicIdAdmin, BaseUserAdmin):
    list_display = ("username", "public_id", "phone", "display_name", "platform_role", "is_staff", "is_active",
                    "date_joined")
    list_filter = ("platform_role", "is_active", "is_staff", ("date_joined", admin.DateFieldListFilter))
    search_fields = ("username", "=phone", "display_name", "=public_id")
    ordering = ("-date_joined",)
    readonly_fields = ("public_id", "date_joined", "last_login")
    date_hierarchy = "date_joined"
    fieldsets = (
        (None, {"fields": ("public_id", "username", "password")}),
        (_("Profile"), {"fields": ("phone", "display_name")}),
        (_("Platform"), {"fields": ("platform_role", "is_active", "is_staff", "is_superuser", "groups",
                                    "user_permissions", "token_version")}),
        (_("Dates"), {"fields": ("date_joined", "last_login")}),
    )
    filter_horizontal = ("groups", "user_permissions")
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),)


@admin.register(AuditEntry)
class AuditEntryAdmin(PublicIdAdmin, admin.ModelAdmin):
    """The audit log: read by operators, written only by `linli.core.audit.audit`. Nobody,
    superusers included, may add, change or delete an entry here."""

    list_display = ("created_at", "action", "role", "actor_public_id", "target_kind", "target_id", "address")
    list_filter = ("action", "role", "target_kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=public_id", "=actor_public_id", "=target_id", "action")
    date_hierarchy = "created_at"
    readonly_fields = ("public_id", "created_at", "action", "role", "actor", "actor_public_id", "target_kind",
                       "target_id", "details", "address")
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff)
