"""What a person sees in a real browser: sign in, open a case, add a phone, be refused a case
of another agency, and read a case page on a laptop and on a tablet."""

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from casebook.models import Agency
from cases.models import Case, Entity
from tests.browser.conftest import LAPTOP, TABLET
from tests.factories import PASSWORD, make_entity

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def expect_path(page: Any, pattern: str) -> None:
    page.wait_for_url(re.compile(rf"^https?://[^/]+{pattern}(\?.*)?(#.*)?$"))


def field(page: Any, label: str) -> Any:
    """The form field labelled ``label`` (a required field's label ends with a star)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def test_investigator_signs_in_and_opens_a_case_through_the_form(
    new_page: Any, investigator: Any
) -> None:
    page = new_page()
    page.goto(reverse("dashboard"))
    expect_path(page, reverse("login"))

    page.get_by_label("Username").fill(investigator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_path(page, reverse("dashboard"))
    assert page.get_by_role("heading", name="Dashboard", level=1).is_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    expect_path(page, reverse("cases:list"))
    page.get_by_role("link", name="New case").first.click()
    expect_path(page, reverse("cases:create"))

    page.get_by_label("Title").fill("Smuggling ring at Paso Canoas")
    field(page, "Kind").select_option(label="Migrant smuggling")
    page.get_by_label("Handling code").select_option(label="TLP:AMBER+STRICT")
    page.get_by_role("button", name="Open case").click()

    case = Case.objects.get()
    expect_path(page, reverse("cases:detail", kwargs={"case": case.uuid}))
    reference = f"PA-{timezone.localdate().year}-00001"
    assert case.reference == reference
    assert page.get_by_role("heading", name="Smuggling ring at Paso Canoas").is_visible()
    assert reference in page.locator("main").inner_text()
    assert case.kind == Case.Kind.SMUGGLING
    assert case.handling_code == Case.HandlingCode.AMBER_STRICT


def test_invalid_phone_is_refused_next_to_the_field_and_a_valid_one_is_listed(
    new_page: Any, investigator: Any, case: Case
) -> None:
    page = new_page(investigator)
    page.goto(reverse("cases:entity_add", kwargs={"case": case.uuid, "kind": "phone"}))
    role = page.get_by_label("Role")
    if role.count():
        role.select_option(value=Entity.Role.FACILITATOR)
    number = page.get_by_label("Phone number")

    number.fill("12345")
    page.get_by_role("button", name="Add").click()
    page.wait_for_load_state()
    number = page.get_by_label("Phone number")
    assert "is-invalid" in (number.get_attribute("class") or "")
    assert number.get_attribute("aria-invalid") == "true"
    field_box = page.locator(".mb-3").filter(has=number)
    error = field_box.locator(".invalid-feedback")
    assert error.first.is_visible()
    assert error.first.inner_text().strip()
    assert not Entity.objects.filter(case=case).exists()

    number.fill("6123-4567")
    page.get_by_role("button", name="Add").click()
    expect_path(page, reverse("cases:detail", kwargs={"case": case.uuid}))
    phone = Entity.objects.get(case=case, kind=Entity.Kind.PHONE)
    entities = page.locator("#entities")
    assert "6123" in entities.inner_text()
    link = reverse("cases:entity", kwargs={"case": case.uuid, "entity": phone.uuid})
    assert entities.locator(f'a[href="{link}"]').count() == 1


def test_outsider_typing_the_case_address_gets_the_not_found_page(
    new_page: Any, outsider: Any, case: Case
) -> None:
    page = new_page(outsider)
    response = page.goto(reverse("cases:detail", kwargs={"case": case.uuid}))

    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    text = page.locator("body").inner_text()
    assert case.title not in text
    assert case.reference not in text


@pytest.mark.parametrize(("size_name", "viewport"), [("laptop", LAPTOP), ("tablet", TABLET)])
def test_case_page_fits_the_screen_without_horizontal_scrolling(
    new_page: Any,
    investigator: Any,
    pa_police: Agency,
    tmp_path: Path,
    size_name: str,
    viewport: dict[str, int],
) -> None:
    case = _busy_case(investigator)
    page = new_page(investigator, viewport=viewport)
    page.goto(reverse("cases:detail", kwargs={"case": case.uuid}))
    assert page.get_by_role("heading", name=case.title).is_visible()

    screenshot = tmp_path / f"case-{size_name}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (
        f"{size_name}: the page is {scroll_width}px wide in a {inner_width}px window"
    )


def _busy_case(user: Any) -> Case:
    """A case with a long title, a long summary and several kinds of entities."""
    from tests.factories import make_case

    case = make_case(
        user,
        title="Red de tráfico ilícito de migrantes por la ruta Necoclí–Darién–Paso Canoas "
        "con transportistas en Chiriquí",
        summary="Migrants were moved in groups of twenty to forty from Bajo Chiquito to the "
        "reception station at Lajas Blancas and on to Paso Canoas. " * 6,
    )
    make_entity(user, case, Entity.Kind.PERSON, name="María Fernanda Castillo Rodríguez")
    make_entity(user, case, Entity.Kind.PERSON, name="Juan Carlos Pérez", role="transporter")
    make_entity(user, case, Entity.Kind.PHONE)
    make_entity(user, case, Entity.Kind.LOCATION, role="other")
    return case
