"""Targeted campaigns: create a draft, launch it (the segment evaluated, the control group
held out, the instrument issued and the message sent to the treated members within the
caps), cancel it, and the periodic job that launches scheduled ones and closes finished
ones. See docs/marketing.md, "Campaigns"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import PlatformRole, User
from linli.core.errors import PermissionDenied
from linli.merchants import roles
from linli.merchants.models import MerchantMember, Store
from linli.notifications.services import notify

from . import errors, segments
from .engagement_models import Campaign, CampaignEvent, CampaignMember, Lottery
from .engagement_selectors import segment_members
from .models import CouponTemplate
from .services import coupon_claim

# Refusals of one member's claim: that member gets no coupon, the launch goes on.
MEMBER_REFUSALS = (errors.CouponClaimLimit, errors.CouponNewCustomersOnly)


def is_operator(user: User) -> bool:
    return bool(user.is_superuser or (user.is_staff and user.platform_role == PlatformRole.OPERATOR))


def check_may_manage(actor: User, store: Store | None) -> None:
    """Operators run platform campaigns and any store's; a store's owner or manager runs
    their own store's."""
    if is_operator(actor):
        return
    if store is not None:
        role = (MerchantMember.objects.filter(user=actor, merchant_id=store.merchant_id)
                .values_list("role", flat=True).first())
        if role is not None and roles.allows(role, roles.STORE_EDIT):
            return
    raise PermissionDenied(permission="campaigns.manage")


def _event(campaign: Campaign, action: str, from_status: str, actor: User | None, note: str = "") -> None:
    CampaignEvent.objects.create(campaign=campaign, action=action, from_status=from_status,
                                 to_status=campaign.status, actor=actor, note=note[:200])


@dataclass(frozen=True)
class CampaignTerms:
    name: str
    segment_rule: Any
    instrument: str  # coupon | lottery
    message_title: str
    message_body: str
    store_id: str | None = None
    coupon_template_id: str | None = None
    lottery_id: str | None = None
    schedule_at: datetime | None = None
    control_percent: int = 10
    window_days: int = 14


def campaign_create(*, actor: User, terms: CampaignTerms, now: datetime | None = None) -> Campaign:
    """A draft campaign (or scheduled, when `schedule_at` is given). A store's campaign uses
    the store's own coupon template or lottery; a bad rule is `segment_rule_invalid`."""
    now = now or timezone.now()
    store = None
    if terms.store_id:
        store = Store.objects.filter(public_id=terms.store_id).first()
        if store is None:
            raise errors.CampaignTermsInvalid(field="store_id")
    check_may_manage(actor, store)
    try:
        rule = segments.rule_clean(terms.segment_rule)
    except segments.RuleInvalid as exc:
        raise errors.SegmentRuleInvalid(part=exc.reason) from None
    template = lottery = None
    if terms.instrument == Campaign.Instrument.COUPON:
        template = CouponTemplate.objects.filter(public_id=terms.coupon_template_id or "", is_active=True).first()
        if template is None or (store is not None and template.store_id != store.pk):
            raise errors.CouponTemplateNotFound(template_id=terms.coupon_template_id or "")
    elif terms.instrument == Campaign.Instrument.LOTTERY:
        lottery = Lottery.objects.filter(public_id=terms.lottery_id or "").first()
        if lottery is None or (store is not None and lottery.store_id != store.pk):
            raise errors.LotteryNotFound(lottery_id=terms.lottery_id or "")
    else:
        raise errors.CampaignTermsInvalid(field="instrument")
    if terms.schedule_at is not None and terms.schedule_at <= now:
        raise errors.CampaignTermsInvalid(field="schedule_at")
    campaign = Campaign(name=terms.name, store=store, segment_rule=rule, instrument=terms.instrument,
                        coupon_template=template, lottery=lottery, message_title=terms.message_title,
                        message_body=terms.message_body, schedule_at=terms.schedule_at,
                        control_percent=terms.control_percent, window_days=terms.window_days, created_by=actor,
                        status=Campaign.Status.SCHEDULED if terms.schedule_at else Campaign.Status.DRAFT)
    try:
        campaign.full_clean()
    except ValidationError as exc:
        raise errors.CampaignTermsInvalid(fields=sorted(exc.message_dict)) from None
    with transaction.atomic():
        campaign.save()
        _event(campaign, "create", "", actor)
    return campaign


def campaign_get(*, campaign_id: str) -> Campaign:
    campaign = (Campaign.objects.select_related("store", "coupon_template", "lottery")
                .filter(public_id=campaign_id).first())
    if campaign is None:
        raise errors.CampaignNotFound(campaign_id=campaign_id)
    return campaign


def _link(campaign: Campaign) -> str:
    if campaign.instrument == Campaign.Instrument.LOTTERY and campaign.lottery is not None:
        return f"/lotteries/{campaign.lottery.public_id}"
    return "/me/coupons"


def campaign_launch(*, campaign_id: str, actor: User | None, now: datetime | None = None) -> Campaign:
    """Launch a draft or scheduled campaign, all or nothing, in one transaction: evaluate the
    segment (nobody: 422 `segment_empty`, nothing written), split the control group by hash,
    issue the coupon to each treated member (`coupon_claim`, keyed by campaign and member, so
    a retry issues nothing twice), notify them (marketing: caps and opt-out apply) and record
    who was reached. `actor` None = the scheduler."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = campaign_get(campaign_id=campaign_id)
        if actor is not None:
            check_may_manage(actor, campaign.store)
        campaign = Campaign.objects.select_for_update(of=("self",)).select_related(
            "store", "coupon_template", "lottery").get(pk=campaign.pk)
        if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            raise errors.CampaignNotDraft(campaign_id=campaign_id, status=campaign.status)
        found = segment_members(rule=campaign.segment_rule, store=campaign.store, now=now)
        if not found:
            raise errors.SegmentEmpty(campaign_id=campaign_id)
        members = [CampaignMember(campaign=campaign, user_id=pk, group=CampaignMember.Group.CONTROL
                                  if segments.in_control(campaign.public_id, ref, campaign.control_percent)
                                  else CampaignMember.Group.TREATED) for pk, ref in found]
        treated = [m for m in members if m.group == CampaignMember.Group.TREATED]
        template = campaign.coupon_template
        if (campaign.instrument == Campaign.Instrument.COUPON and template is not None
                and template.total_quota is not None
                and template.total_quota - template.issued_count < len(treated)):
            raise errors.CampaignQuotaShort(campaign_id=campaign_id, treated=len(treated),
                                            left=template.total_quota - template.issued_count)
        users = {u.pk: u for u in User.objects.filter(pk__in=[m.user_id for m in treated])}
        for member in treated:
            user = users[member.user_id]
            if template is not None and campaign.instrument == Campaign.Instrument.COUPON:
                try:
                    member.coupon = coupon_claim(user=user, template_id=template.public_id,
                                                 key=f"{campaign.public_id}", now=now).coupon
                    member.claimed_at = now
                except MEMBER_REFUSALS:
                    pass
                except errors.CouponSoldOut:  # taken by other claimers meanwhile: nothing half sent
                    raise errors.CampaignQuotaShort(campaign_id=campaign_id, treated=len(treated)) from None
            delivery = notify(user, "campaign", campaign.message_title, campaign.message_body, _link(campaign),
                              marketing=True, campaign_ref=campaign.public_id, now=now)
            member.reached_at = now if delivery.delivered else None
        CampaignMember.objects.bulk_create(members)
        before = campaign.status
        campaign.status, campaign.launched_at = Campaign.Status.RUNNING, now
        campaign.save(update_fields=["status", "launched_at", "updated_at"])
        _event(campaign, "launch", before, actor, note=f"{len(treated)} treated, {len(members) - len(treated)} control")
    return campaign


def campaign_cancel(*, campaign_id: str, actor: User | None, note: str = "") -> Campaign:
    """Cancel a draft or scheduled campaign (a launched one has sent its coupons)."""
    with transaction.atomic():
        campaign = campaign_get(campaign_id=campaign_id)
        if actor is not None:
            check_may_manage(actor, campaign.store)
        if not Campaign.objects.filter(pk=campaign.pk, status__in=(Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
                                       ).update(status=Campaign.Status.CANCELLED, updated_at=timezone.now()):
            raise errors.CampaignNotDraft(campaign_id=campaign_id, status=campaign.status)
        before, campaign.status = campaign.status, Campaign.Status.CANCELLED
        _event(campaign, "cancel", before, actor, note)
    return campaign


def campaigns_due(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: launch scheduled campaigns whose time has come (one whose segment
    is empty, or whose coupon cannot cover it, is cancelled with the reason), and mark
    running campaigns whose conversion window has passed `done`."""
    now = now or timezone.now()
    launched = cancelled = done = 0
    for campaign_id in Campaign.objects.filter(status=Campaign.Status.SCHEDULED, schedule_at__lte=now
                                               ).values_list("public_id", flat=True)[:50]:
        try:
            campaign_launch(campaign_id=campaign_id, actor=None, now=now)
            launched += 1
        except (errors.SegmentEmpty, errors.CampaignQuotaShort, errors.CouponTemplateNotFound,
                errors.CouponClaimClosed) as exc:
            campaign_cancel(campaign_id=campaign_id, actor=None, note=exc.code)
            cancelled += 1
        except errors.CampaignNotDraft:
            continue  # launched by hand meanwhile
    for campaign in Campaign.objects.filter(status=Campaign.Status.RUNNING, launched_at__isnull=False):
        if campaign.launched_at + timedelta(days=campaign.window_days) <= now:
            with transaction.atomic():
                if Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(
                        status=Campaign.Status.DONE):
                    campaign.status = Campaign.Status.DONE
                    _event(campaign, "finish", str(Campaign.Status.RUNNING), None)
                    done += 1
    return {"launched": launched, "cancelled": cancelled, "done": done}
