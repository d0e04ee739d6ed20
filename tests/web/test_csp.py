"""The pages' Content-Security-Policy forbids inline scripts (`script-src 'self'`): every
script is a static file and no template carries an on* attribute. The scan keeps it so; the
browser test proves the behaviour that used to be inline still works under the policy, and
that the page reports no violation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import linli
from linli.merchants.models import MerchantMember
from tests.fixtures import PASSWORD, make_staff, make_store

from .browser import PHONE, TIMEOUT_MS

TEMPLATES = Path(linli.__file__).parent
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.S)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.S)


def test_no_template_has_an_inline_script_or_handler():
    templates = list(TEMPLATES.rglob("templates/**/*.html"))
    assert len(templates) > 50  # the scan really sees the project's templates
    offenders = [f"{path.relative_to(TEMPLATES)}: {match.group(0)[:80]}"
                 for path in templates for pattern in (INLINE_SCRIPT, HANDLER)
                 for match in pattern.finditer(path.read_text())]
    assert offenders == []


def test_pages_forbid_inline_scripts(db):
    answer = Client().get("/login")
    policy = answer["Content-Security-Policy"]
    script_src = next(part.strip() for part in policy.split(";") if part.strip().startswith("script-src"))
    assert script_src == "script-src 'self'"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_confirm_and_print_work_without_inline_script_and_nothing_is_blocked(live_server, chromium):
    store = make_store()
    cashier = make_staff(store, role="cashier")
    owner = store.merchant.members.get(role="owner").user
    owner.set_password(PASSWORD)
    owner.save()
    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    # Runs before the page's own scripts (and outside its CSP): records violations and prints.
    ctx.add_init_script("""
        window.__violations = [];
        document.addEventListener("securitypolicyviolation",
            function (e) { window.__violations.push(e.violatedDirective + " " + e.blockedURI); });
        window.__printed = 0;
        window.print = function () { window.__printed += 1; };
    """)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/m/login")
    page.get_by_test_id("login-name").fill(owner.username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login").click()
    page.wait_for_selector("[data-testid=console-nav]")
    page.goto(f"{live_server.url}/m/staff")
    remove = page.get_by_test_id("remove-member")
    assert remove.count() == 1  # the cashier's row; the owner cannot be removed

    questions: list[str] = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    remove.click()
    page.wait_for_timeout(300)
    assert len(questions) == 1 and questions[0]  # asked, and "no" kept the member
    assert MerchantMember.objects.filter(user=cashier).exists()

    page.once("dialog", lambda d: (questions.append(d.message), d.accept()))
    with page.expect_navigation():
        remove.click()
    assert len(questions) == 2
    assert not MerchantMember.objects.filter(user=cashier).exists()

    page.goto(f"{live_server.url}/m/tables")
    page.get_by_test_id("print").click()
    assert page.evaluate("window.__printed") == 1
    assert page.evaluate("window.__violations") == []
    # An inline script injected into the page is really refused: the policy is enforced.
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.__ran = true"; document.body.appendChild(s); }""")
    page.wait_for_timeout(100)
    assert page.evaluate("window.__ran === true") is False
    assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))
    ctx.close()
