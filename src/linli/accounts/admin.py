from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from linli.ops.admin_tools import PublicIdAdmin

from .models import User


@admin.register(User)
class UserAdmin(PublicIdAdmin, BaseUserAdmin):
    list_display = ("username", "public_id", "phone", "display_name", "platform_role", "is_staff", "is_active",
                    "date_joined")
    list_filter = ("platform_role", "is_active", "is_staff", ("date_joined", admin.DateFieldListFilter))
    search_fields = ("username", "phone", "display_name", "=public_id")
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
