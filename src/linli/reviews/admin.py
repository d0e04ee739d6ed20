"""Operator back office: every review, and the moderation queue of held ones (approve, or
hide with a reason typed beside the action). Actions go through `review_moderate`, so
the rating sums move and an event row records who and when."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linli.core.errors import DomainError

from . import services
from .models import HeldReview, Review, ReviewEvent, ReviewPhoto, RiderRating


class ModerationActionForm(ActionForm):
    reason = forms.CharField(required=False, max_length=200, label=_("Reason"))


class EventInline(admin.TabularInline):
    model = ReviewEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "from_status", "to_status", "actor", "actor_role", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class PhotoInline(admin.TabularInline):
    model = ReviewPhoto
    extra = 0
    can_delete = False
    fields = ("image", "width", "height")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


def _moderate(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Review], action: str) -> None:
    reason = request.POST.get("reason", "")
    done = 0
    for review in queryset:
        try:
            services.review_moderate(actor=request.user, review_id=review.public_id,  # type: ignore[arg-type]
                                     action=action, reason=reason)
        except DomainError as exc:
            modeladmin.message_user(request, f"{review.public_id}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, _("%(n)s review(s) updated.") % {"n": done}, messages.SUCCESS)


@admin.action(description=_("Approve (publish)"))
def approve(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _moderate(modeladmin, request, queryset, "approve")


@admin.action(description=_("Hide, with the reason typed beside"))
def hide(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _moderate(modeladmin, request, queryset, "hide")


@admin.action(description=_("Restore (publish again)"))
def restore(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _moderate(modeladmin, request, queryset, "restore")


class _ReviewAdminBase(admin.ModelAdmin):
    action_form = ModerationActionForm
    list_display = ("public_id", "store", "stars", "short_text", "photo_count", "status", "status_reason",
                    "created_at")
    list_select_related = ("store",)
    search_fields = ("public_id", "subject_key", "text")
    readonly_fields = ("public_id", "subject_kind", "subject_key", "order", "store", "author", "stars", "taste",
                       "packaging", "delivery", "text", "status", "status_reason", "photo_count", "helpful_count",
                       "created_at", "updated_at")
    fields = readonly_fields
    inlines = [PhotoInline, EventInline]

    @admin.display(description=_("Text"))
    def short_text(self, obj: Review) -> str:
        return obj.text[:60]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(HeldReview)
class HeldReviewAdmin(_ReviewAdminBase):
    actions = [approve, hide]
    ordering = ("created_at",)  # oldest first: the queue

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).filter(status=Review.Status.HELD)


@admin.register(Review)
class ReviewAdmin(_ReviewAdminBase):
    actions = [approve, hide, restore]
    list_filter = ("status", "stars")
    date_hierarchy = "created_at"


@admin.register(RiderRating)
class RiderRatingAdmin(admin.ModelAdmin):
    list_display = ("review", "rider", "thumbs_up", "stars", "tags", "created_at")
    list_select_related = ("review", "rider")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
