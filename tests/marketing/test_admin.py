"""The back office: operators create and edit coupon templates and promotions; counts are
read-only and a template's terms freeze once coupons were issued from it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from linli.marketing.models import CouponTemplate, Promotion
from linli.marketing.services import coupon_claim
from tests.fixtures import make_product, make_store
from tests.ops.helpers import operator_user, staff_client

from .helpers import make_promotion, make_template

pytestmark = pytest.mark.django_db
TEMPLATES = "/ops/marketing/coupontemplate/"
PROMOTIONS = "/ops/marketing/promotion/"


@pytest.fixture
def ops():
    user = operator_user()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="marketing"))
    client = staff_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the assertions read the English messages
    return client


def _template_form(**fields):
    form = {"name": "满20减3", "kind": "amount_off", "amount_fen": "300", "percent_off": "0", "threshold_fen": "2000",
            "scope": "platform", "funded_by": "platform", "platform_share_percent": "0", "valid_days": "7",
            "per_user_limit": "1", "total_quota": "500", "is_active": "on", "stacks_with_promotions": "on",
            "points_cost": "0"}
    form.update(fields)
    return form


def test_an_operator_creates_a_template_and_sees_its_counts(ops):
    answer = ops.post(f"{TEMPLATES}add/", _template_form())
    assert answer.status_code == 302, answer.content.decode()[:2000]
    template = CouponTemplate.objects.get(name="满20减3")
    assert template.total_quota == 500 and template.issued_count == 0
    page = ops.get(f"{TEMPLATES}{template.public_id}/change/")
    assert page.status_code == 200 and "issued_count" not in {f.name for f in page.context["adminform"].form}
    assert ops.get(TEMPLATES).status_code == 200


@pytest.mark.parametrize(("fields", "message"), [
    ({"threshold_fen": "200"}, "threshold must be above"),
    ({"kind": "percent_off", "amount_fen": "0", "percent_off": "120"}, "1 to 99 percent"),
    ({"scope": "store"}, "names its store"),
    ({"funded_by": "shared", "platform_share_percent": "0"}, "1 to 99 percent"),
    ({"valid_days": ""}, "either fixed dates"),
])
def test_bad_terms_are_refused_with_a_message(ops, fields, message):
    answer = ops.post(f"{TEMPLATES}add/", _template_form(**fields))
    assert answer.status_code == 200 and message in answer.content.decode()
    assert not CouponTemplate.objects.exists()


def test_terms_freeze_once_issued_but_the_quota_stays_editable(ops):
    from linli.accounts.models import User

    template = make_template()
    coupon_claim(user=User.objects.create_user(username="buyer"), template_id=template.public_id)
    form = ops.get(f"{TEMPLATES}{template.public_id}/change/").context["adminform"].form
    assert "amount_fen" not in form.fields and "total_quota" in form.fields
    answer = ops.post(f"{TEMPLATES}{template.public_id}/change/",
                      {"name": "满30减5", "total_quota": "0", "claim_starts_at_0": "", "is_active": "on"})
    assert answer.status_code == 200 and "cannot go below" in answer.content.decode()


def test_overlapping_exclusive_promotions_are_refused(ops):
    store = make_store()
    make_promotion(store, exclusive=True)
    now = timezone.now()
    clash = Promotion(store=store, kind="first_order", name="新客", amount_fen=300, exclusive=True,
                      starts_at=now, ends_at=now + timedelta(days=1))
    with pytest.raises(Exception, match="overlaps"):
        clash.full_clean()
    twin = Promotion(store=store, kind="tiered", name="满减2", tiers=[[2000, 300]], starts_at=now,
                     ends_at=now + timedelta(days=1))
    with pytest.raises(Exception, match="overlaps"):
        twin.full_clean()
    later = Promotion(store=store, kind="tiered", name="下周满减", tiers=[[2000, 300]],
                      starts_at=now + timedelta(days=8), ends_at=now + timedelta(days=9))
    later.full_clean()  # after the first one ends: fine


@pytest.mark.parametrize(("fields", "field"), [
    ({"tiers": [[3000, 500], [2000, 800]]}, "tiers"),
    ({"tiers": [[300, 500]]}, "tiers"),
    ({"tiers": "junk"}, "tiers"),
    ({"kind": "special_price", "tiers": [], "special_price_fen": 5000}, "special_price_fen"),
    ({"kind": "first_order", "tiers": []}, "amount_fen"),
])
def test_bad_promotions_are_refused(fields, field):
    from django.core.exceptions import ValidationError

    store = make_store()
    product = make_product(store, price_fen=3000)
    now = timezone.now()
    values = {"kind": "tiered", "name": "满减", "starts_at": now, "ends_at": now + timedelta(days=1),
              "product": product, **fields}
    with pytest.raises(ValidationError) as refused:
        Promotion(store=store, **values).full_clean()
    assert field in refused.value.message_dict


def test_an_operator_edits_a_promotion(ops):
    promotion = make_promotion(make_store())
    assert ops.get(f"{PROMOTIONS}{promotion.public_id}/change/").status_code == 200
    assert ops.get(PROMOTIONS).status_code == 200
