"""Sharing in a real browser: a supervisor shares a case with another country's police, its
investigator opens it, the supervisor revokes the share, and the next request of the
investigator is refused with the not-found page; and a share that breaks the rules is refused
with its reason, nothing stored."""

from typing import Any

import pytest
from django.urls import reverse

from casebook.models import Agency
from cases.models import Case, CaseShare
from tests.browser.test_pages import field

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_share_opens_the_case_to_the_other_agency_until_it_is_revoked(
    new_page: Any, supervisor: Any, outsider: Any, case: Case, cr_police: Agency
) -> None:
    detail = reverse("cases:detail", kwargs={"case": case.uuid})
    theirs = new_page(outsider)
    assert theirs.goto(detail).status == 404

    ours = new_page(supervisor)
    ours.goto(reverse("cases:shares", kwargs={"case": case.uuid}))
    field(ours, "Agency").select_option(value=str(cr_police.uuid))
    field(ours, "Level").select_option(value=CaseShare.Level.CONTRIBUTE)
    field(ours, "Purpose").fill("Joint investigation of the Paso Canoas crossing")
    ours.get_by_role("button", name="Share", exact=True).click()
    ours.wait_for_load_state()
    share = CaseShare.objects.get(case=case, agency=cr_police)
    assert share.level == CaseShare.Level.CONTRIBUTE and share.is_active()
    open_shares = ours.locator("section", has=ours.get_by_role("heading", name="Open shares"))
    assert cr_police.name in open_shares.inner_text()

    response = theirs.goto(detail)
    assert response is not None and response.status == 200
    assert theirs.get_by_role("heading", name=case.title).is_visible()

    open_shares.get_by_role("link", name="Revoke").click()
    ours.get_by_role("button", name="Revoke").click()
    ours.wait_for_load_state()
    share.refresh_from_db()
    assert not share.is_active()
    assert share.end_reason == CaseShare.EndReason.REVOKED

    response = theirs.reload()
    assert response is not None and response.status == 404
    assert case.title not in theirs.locator("body").inner_text()


def test_a_share_without_a_purpose_is_refused_next_to_the_field_and_nothing_stored(
    new_page: Any, supervisor: Any, case: Case, cr_police: Agency
) -> None:
    page = new_page(supervisor)
    page.goto(reverse("cases:shares", kwargs={"case": case.uuid}))
    field(page, "Agency").select_option(value=str(cr_police.uuid))
    page.get_by_role("button", name="Share", exact=True).click()
    page.wait_for_load_state()

    purpose = field(page, "Purpose")
    assert "is-invalid" in (purpose.get_attribute("class") or "")
    feedback = page.locator(".invalid-feedback", has_text="purpose")
    assert feedback.first.is_visible()
    assert not CaseShare.objects.filter(case=case).exists()
