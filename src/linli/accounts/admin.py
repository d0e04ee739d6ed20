from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "phone", "display_name", "platform_role", "is_active", "date_joined")
    list_filter = ("platform_role", "is_active", "is_staff")
    search_fields = ("username", "phone", "display_name", "public_id")
    ordering = ("-date_joined",)
    readonly_fields = ("public_id", "date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("public_id", "username", "password")}),
        ("Profile", {"fields": ("phone", "display_name")}),
        ("Platform", {"fields": ("platform_role", "is_active", "is_staff", "is_superuser", "token_version")}),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),)
