"""The operator back office renders every registered model for an operator, and
keeps everyone else out."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from linli.accounts.models import User
from tests.fixtures import make_product, make_store

pytestmark = pytest.mark.django_db


def test_every_admin_list_and_detail_page_renders_for_an_operator():
    store = make_store()
    make_product(store)
    operator = User.objects.create_superuser("ops-admin", "long-enough-password")
    browser = Client()
    browser.force_login(operator)
    for model in admin.site._registry:
        meta = model._meta
        listing = browser.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert listing.status_code == 200, meta.label
        first = model.objects.first()
        if first is not None:
            detail = browser.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
            assert detail.status_code == 200, meta.label


def test_consumers_cannot_open_the_back_office():
    consumer = User.objects.create_user("+8613800138000", phone="+8613800138000")
    browser = Client()
    browser.force_login(consumer)
    assert browser.get("/ops/").status_code == 302
