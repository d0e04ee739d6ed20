"""Logging in through the web pages, the way a person does."""

from __future__ import annotations

import re

from django.test import Client

from linli.accounts.phone import phone_normalise
from linli.accounts.sms import OutboxSmsProvider
from tests.fixtures import PASSWORD


def web_sms_login(phone: str, client: Client | None = None) -> Client:
    client = client or Client()
    phone = phone_normalise(phone)
    answer = client.post("/login", {"phone": phone, "step": "send"})
    assert answer.status_code == 200, answer.content
    text = next(t for p, t in reversed(OutboxSmsProvider.outbox) if p == phone)
    code = re.search(r"\d{6}", text).group()
    answer = client.post("/login", {"phone": phone, "code": code, "step": "login", "next": "/orders"})
    assert answer.status_code == 302 and answer["Location"] == "/orders", answer.content
    return client


def web_password_login(login: str, surface: str, password: str = PASSWORD) -> Client:
    client = Client()
    answer = client.post(f"/{surface}/login", {"login": login, "password": password})
    assert answer.status_code == 302, answer.content
    return client
