"""The pages outside the sweep: the Django admin is no back door to case content, and the
sign-in and public account pages (reached before signing in) show nothing."""

from typing import Any

from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from tests.leaks.access import FOUND, OK
from tests.leaks.harness import Report, fetch
from tests.leaks.world import World


def test_the_admin_is_no_back_door(world: World, db: Any) -> None:
    """A superuser without membership sees no case content anywhere in the admin (every
    registered model's list, and the change and history pages of the world's agencies,
    members and users); members of agencies are sent to the admin's sign-in."""
    report = Report()
    root = "root"
    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        pages.append(reverse(f"{base}_changelist"))
        for obj in model_admin.get_queryset(_admin_request(world))[:40]:
            pages.append(reverse(f"{base}_change", args=[obj.pk]))
            pages.append(reverse(f"{base}_history", args=[obj.pk]))
    for code in ("AMB", "RED"):
        case = world.cases[code]
        pages.append(f"/admin/cases/case/{case.pk}/change/")
        pages.append(f"/admin/cases/case/?q={case.reference}")
    for url in pages:
        fetched, _ = fetch(world, root, "GET", url)
        report.requests += 1
        report.check_markers(world, None, f"GET {url} (admin)", fetched)
        if fetched.status >= 500:
            report.add(f"STATUS GET {url} as root: {fetched.status} {fetched.error}")
    for username in ("papol.supervisor", "papol.investigator", "hnpol.supervisor"):
        for url in pages[:6]:
            fetched, _ = fetch(world, username, "GET", url)
            report.requests += 1
            if fetched.status != FOUND or "/admin/login/" not in fetched.location:
                report.add(f"ADMIN OPEN GET {url} as {username}: {fetched.status}")
            report.check_markers(world, None, f"GET {url} (admin)", fetched)
    report.fail_if_any(f"admin ({report.requests} requests)")


def _admin_request(world: World) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = world.users["root"]
    return request


def test_the_login_page_shows_nothing(world: World, db: Any) -> None:
    report = Report()
    for username in (None, "papol.investigator"):
        fetched, _ = fetch(world, username, "GET", reverse("login"))
        report.check_markers(world, None, "GET login", fetched)
        if fetched.status != OK:
            report.add(f"STATUS GET login as {username}: {fetched.status}")
    report.fail_if_any("login page")


def test_the_public_account_pages_show_nothing(world: World, db: Any) -> None:
    """The pages reached before signing in (a reset request, a reset or enrolment link,
    right or wrong) show no marker to anyone, and a wrong link is answered, not a 500."""
    report = Report()
    victim = world.entities[("AMB", "P", "person")]
    urls = [
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("password_reset_complete"),
        reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "set-password"}),
        reverse("password_reset_confirm", kwargs={"uidb64": "zz", "token": "abc-def"}),
        reverse("account_set_password", kwargs={"token": "no-such-link"}),
        reverse("account_set_password", kwargs={"token": "choose"}),
        reverse("account_set_password", kwargs={"token": str(victim.uuid)}),
    ]
    for username in (None, "papol.investigator", "hnpol.analyst"):
        for url in urls:
            for method in ("GET", "POST"):
                fetched, _ = fetch(world, username, method, url, {"email": "x@example.org"})
                report.requests += 1
                where = f"{method} {url} (public)"
                report.check_markers(world, None, where, fetched)
                if fetched.status >= 500:
                    report.add(f"STATUS {where} as {username}: {fetched.status} {fetched.error}")
    report.fail_if_any(f"public account pages ({report.requests} requests)")
