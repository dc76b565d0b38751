"""The sharing pages: who sees the sharing page, what it shows and refuses, revoking from it;
and the partner persona (``shared_case``) on the case pages."""

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casebook.models import AccessLog, Agency, Country
from cases import services
from cases.forms.sharing import end_of_day_utc
from cases.models import Case, CaseShare, Entity
from cases.selectors import case_access
from tests.cases.sharing_helpers import (
    PURPOSE,
    Code,
    Level,
    new_agency,
    revoke_url,
    share,
    shares_url,
    stored,
)
from tests.conftest import client_for
from tests.factories import AgencyFactory, make_case, make_entity

# --- the sharing page ----------------------------------------------------------------------


def share_form(agency: Agency, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"agency": str(agency.uuid), "level": Level.VIEW, "purpose": PURPOSE}
    data.update(values)
    return data


def test_owner_supervisor_sees_the_sharing_page_with_the_rules_of_the_case_code(
    case: Case, supervisor: Any, cr_police: Agency, gt_police: Agency, pa_police: Agency
) -> None:
    share(supervisor, case, cr_police, Level.CONTRIBUTE)
    response = client_for(supervisor).get(shares_url(case))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Organismo de Investigación Judicial" in content
    assert "Contribute" in content
    assert PURPOSE in content
    assert "Only to agencies of the recipient&#x27;s own country" in content
    assert "This case is TLP:AMBER: its row is highlighted." in content
    # The agency select is grouped by country and leaves out the owner agency.
    assert '<optgroup label="Guatemala">' in content
    assert f'value="{gt_police.uuid}"' in content
    assert f'value="{pa_police.uuid}"' not in content
    assert 'name="include_protected"' in content
    assert revoke_url(CaseShare.objects.get()) in content


def test_the_case_page_links_to_sharing_for_those_who_may_manage_it_only(
    case: Case, supervisor: Any, investigator: Any
) -> None:
    assert shares_url(case) in client_for(supervisor).get(case.get_absolute_url()).content.decode()
    page = client_for(investigator).get(case.get_absolute_url()).content.decode()
    assert shares_url(case) not in page


@pytest.mark.parametrize("who", ["investigator", "analyst"])
def test_members_who_may_not_manage_the_case_get_403_on_the_sharing_page(
    who: str, case: Case, request: Any
) -> None:
    user = request.getfixturevalue(who)
    assert client_for(user).get(shares_url(case)).status_code == 403
    response = client_for(user).post(shares_url(case), share_form(new_agency()))
    assert response.status_code == 403
    assert not CaseShare.objects.exists()


def test_outsider_gets_404_on_the_sharing_page(case: Case, outsider: Any) -> None:
    assert client_for(outsider).get(shares_url(case)).status_code == 404
    response = client_for(outsider).post(shares_url(case), share_form(new_agency()))
    assert response.status_code == 404
    assert not CaseShare.objects.exists()


def test_view_level_recipients_get_403_and_manage_level_recipients_see_the_page(
    case: Case, supervisor: Any, cr_police: Agency, cr_supervisor: Any, outsider: Any
) -> None:
    share(supervisor, case, cr_police, Level.VIEW)
    assert client_for(cr_supervisor).get(shares_url(case)).status_code == 403
    share(supervisor, case, cr_police, Level.MANAGE)
    response = client_for(cr_supervisor).get(shares_url(case))
    assert response.status_code == 200
    # Only the owner agency may share protected identities: recipients are not offered it.
    assert 'name="include_protected"' not in response.content.decode()
    # The owner's share of CR police may not be revoked by CR police.
    assert revoke_url(CaseShare.objects.get(ended_at=None)) not in response.content.decode()


def test_posting_the_share_form_shares_and_logs_it(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any
) -> None:
    expires_on = (timezone.now() + datetime.timedelta(days=10)).date()
    response = client_for(supervisor).post(
        shares_url(case),
        share_form(cr_police, level=Level.MANAGE, expires_on=expires_on.isoformat()),
    )
    assert response.status_code == 302
    assert response["Location"] == shares_url(case)
    the_share = CaseShare.objects.get()
    assert the_share.level == Level.MANAGE
    # The expiry date means the end of that day, UTC.
    assert the_share.expires_at == datetime.datetime.combine(
        expires_on + datetime.timedelta(days=1), datetime.time(), datetime.UTC
    )
    assert AccessLog.objects.filter(
        action=AccessLog.Action.SHARE, case=case, object_uuid=the_share.uuid
    ).exists()
    assert client_for(outsider).get(case.get_absolute_url()).status_code == 200


def refused_post(user: Any, case: Case, data: dict[str, Any]) -> Any:
    before = stored()
    response = client_for(user).post(shares_url(case), data)
    assert response.status_code == 200
    assert stored() == before
    assert AccessLog.objects.filter(
        action=AccessLog.Action.REFUSED, case=case, attempted="share"
    ).exists()
    return response.context["form"]


def test_posting_a_share_with_your_own_agency_shows_the_error_next_to_the_agency(
    case: Case, supervisor: Any, pa_police: Agency
) -> None:
    form = refused_post(supervisor, case, share_form(pa_police))
    assert form.errors["agency"] == ["You cannot share a case with your own agency."]


def test_posting_an_agency_that_does_not_exist_is_refused(case: Case, supervisor: Any) -> None:
    form = refused_post(supervisor, case, share_form(AgencyFactory.build(), level=Level.VIEW))
    assert form.errors["agency"] == ["There is no such agency."]
    form = refused_post(supervisor, case, {"agency": "not-a-uuid", "purpose": PURPOSE})
    assert "agency" in form.errors


def test_posting_an_expiry_in_the_past_shows_the_error_next_to_the_expiry(
    case: Case, supervisor: Any, cr_police: Agency
) -> None:
    yesterday = timezone.now().date() - datetime.timedelta(days=1)
    form = refused_post(supervisor, case, share_form(cr_police, expires_on=yesterday.isoformat()))
    assert form.errors["expires_on"] == ["The expiry must be in the future."]


def test_posting_without_a_purpose_says_why_one_is_needed(
    case: Case, supervisor: Any, cr_police: Agency
) -> None:
    form = refused_post(supervisor, case, share_form(cr_police, purpose=""))
    assert form.errors["purpose"] == ["Say why you share this case; the purpose is recorded."]


def test_posting_a_reshare_the_code_forbids_is_refused_with_the_code_named(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any, gt_police: Agency
) -> None:
    the_case = make_case(investigator, handling_code=Code.AMBER)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    form = refused_post(cr_supervisor, the_case, share_form(gt_police))
    assert "Under TLP:AMBER a recipient may re-share only" in form.errors["agency"][0]


def test_a_recipient_of_a_red_case_is_told_it_may_not_share(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any
) -> None:
    the_case = make_case(investigator, handling_code=Code.RED)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    response = client_for(cr_supervisor).get(shares_url(the_case))
    content = response.content.decode()
    assert "Under TLP:RED only the owner agency may share this case." in content
    assert 'name="purpose"' not in content


def test_sharing_page_query_count_does_not_grow_with_the_shares(
    investigator: Any, supervisor: Any
) -> None:
    def count(shares: int) -> int:
        the_case = make_case(investigator)
        for _n in range(shares):
            target = new_agency(country=Country.objects.get(code="CR"))
            the_share = share(supervisor, the_case, target)
            services.share_revoke(access=case_access(supervisor, the_case), share=the_share)
            share(supervisor, the_case, target, Level.CONTRIBUTE)
        client = client_for(supervisor)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(shares_url(the_case)).status_code == 200
        return len(queries)

    assert count(1) == count(15)


def test_a_recipient_s_share_form_says_when_its_own_access_ends(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    last_day = timezone.now().date() + datetime.timedelta(days=10)
    share(supervisor, the_case, cr_police, Level.MANAGE, expires_at=end_of_day_utc(last_day))
    response = client_for(cr_supervisor).get(shares_url(the_case))
    field = response.context["form"].fields["expires_on"]
    assert field.widget.attrs["max"] == last_day.isoformat()
    assert "Your agency&#x27;s own access ends at" in response.content.decode()


def test_a_recipient_may_reshare_until_its_own_last_day_and_no_later(
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    # Shared by the service, so its end is not at midnight: the form's last day ends with it.
    own_end = timezone.now() + datetime.timedelta(days=2)
    share(supervisor, the_case, cr_police, Level.MANAGE, expires_at=own_end)
    last_day = own_end.date()
    form = refused_post(
        cr_supervisor,
        the_case,
        share_form(cr_prosecution, expires_on=(last_day + datetime.timedelta(days=1)).isoformat()),
    )
    assert "a re-share cannot outlast it" in form.errors["expires_on"][0]
    response = client_for(cr_supervisor).post(
        shares_url(the_case), share_form(cr_prosecution, expires_on=last_day.isoformat())
    )
    assert response.status_code == 302
    assert CaseShare.objects.get(agency=cr_prosecution).expires_at == own_end


# --- revoking from the page ------------------------------------------------------------------


def test_revoke_asks_for_confirmation_then_takes_effect_on_the_next_request(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any
) -> None:
    the_share = share(supervisor, case, cr_police, Level.VIEW)
    recipient = client_for(outsider)
    assert recipient.get(case.get_absolute_url()).status_code == 200
    client = client_for(supervisor)
    confirmation = client.get(revoke_url(the_share))
    assert confirmation.status_code == 200
    assert "Revoke the share of" in confirmation.content.decode()
    response = client.post(revoke_url(the_share))
    assert response.status_code == 302
    assert response["Location"] == shares_url(case)
    assert recipient.get(case.get_absolute_url()).status_code == 404
    assert recipient.get(reverse("cases:list")).context["page"].object_list == []
    assert AccessLog.objects.filter(action=AccessLog.Action.REVOKE, case=case).exists()


def test_revoking_an_ended_share_again_says_so_and_logs_the_refusal(
    case: Case, supervisor: Any, cr_police: Agency
) -> None:
    the_share = share(supervisor, case, cr_police)
    client = client_for(supervisor)
    client.post(revoke_url(the_share))
    response = client.post(revoke_url(the_share), follow=True)
    assert "This share has already ended." in response.content.decode()
    assert AccessLog.objects.filter(
        action=AccessLog.Action.REFUSED, case=case, attempted="revoke"
    ).exists()


def test_a_recipient_may_not_revoke_the_owner_s_share(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any, gt_police: Agency
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    gt_share = share(supervisor, the_case, gt_police)
    assert client_for(cr_supervisor).post(revoke_url(gt_share)).status_code == 403
    gt_share.refresh_from_db()
    assert gt_share.ended_at is None


def test_revoke_of_a_share_of_another_case_is_a_404(
    investigator: Any, supervisor: Any, cr_police: Agency
) -> None:
    first, second = make_case(investigator), make_case(investigator)
    the_share = share(supervisor, first, cr_police)
    url = reverse("cases:share_revoke", kwargs={"case": second.uuid, "share": the_share.uuid})
    assert client_for(supervisor).post(url).status_code == 404
    the_share.refresh_from_db()
    assert the_share.ended_at is None


def test_outsider_gets_404_on_revoke(case: Case, supervisor: Any, outsider: Any) -> None:
    the_share = share(supervisor, case, new_agency())
    assert client_for(outsider).get(revoke_url(the_share)).status_code == 404
    assert client_for(outsider).post(revoke_url(the_share)).status_code == 404


# --- the partner agency on the case pages ----------------------------------------------------


def test_the_partner_sees_the_shared_case_with_its_protected_names_masked(
    shared_case: Case, partner: User, investigator: User
) -> None:
    victim = make_entity(investigator, shared_case, role=Entity.Role.VICTIM, name="María Protegida")
    make_entity(investigator, shared_case, name="Suspect Visible")
    client = client_for(partner)
    page = client.get(shared_case.get_absolute_url()).content.decode()
    assert shared_case.title in page
    assert "Suspect Visible" in page
    assert "María Protegida" not in page
    assert f"Victim 1 of {shared_case.reference}" in page
    entity_url = reverse("cases:entity", kwargs={"case": shared_case.uuid, "entity": victim.uuid})
    assert "María Protegida" not in client.get(entity_url).content.decode()
    # The owner's investigator sees the name on the same page.
    owner_page = client_for(investigator).get(shared_case.get_absolute_url()).content.decode()
    assert "María Protegida" in owner_page


def test_the_partner_may_not_manage_the_share_and_loses_the_case_when_it_is_revoked(
    shared_case: Case, partner: User, partner_agency: Agency, supervisor: User
) -> None:
    client = client_for(partner)
    the_share = CaseShare.objects.get(case=shared_case, agency=partner_agency)
    assert client.get(shares_url(shared_case)).status_code == 403
    assert client.post(revoke_url(the_share)).status_code == 403
    assert client.get(shared_case.get_absolute_url()).status_code == 200
    assert client_for(supervisor).post(revoke_url(the_share)).status_code == 302
    assert client.get(shared_case.get_absolute_url()).status_code == 404
    assert client.get(reverse("cases:list")).context["page"].object_list == []
