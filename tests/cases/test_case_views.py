"""Case pages: the list, the detail page, and creating and editing a case."""

import datetime
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casebook.models import Agency, Country
from cases import services
from cases.forms.case import ORDER_LABELS
from cases.models import Case, CaseGroupObjectPermission, Entity
from cases.selectors import CASE_ORDERINGS, case_access, permission_id
from tests.conftest import client_for
from tests.factories import make_case, make_entity, make_member

TODAY = timezone.localdate()


def detail_url(case: Case) -> str:
    return reverse("cases:detail", kwargs={"case": case.uuid})


def edit_url(case: Case) -> str:
    return reverse("cases:edit", kwargs={"case": case.uuid})


def form_data(**values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Recruitment of domestic workers through social media",
        "kind": Case.Kind.TRAFFICKING,
        "status": Case.Status.OPEN,
        "handling_code": Case.HandlingCode.RED,
        "countries": ["CO", "CR"],
        "summary": "First line.\nSecond line.",
        "lead_officer": "",
        "opened_on": TODAY.isoformat(),
    }
    data.update(values)
    return data


def grant_view(case: Case, agency: Agency) -> None:
    """Let another agency see a case (sharing arrives with a later issue)."""
    CaseGroupObjectPermission.objects.create(
        content_object=case, group=agency.group, permission_id=permission_id("view_case")
    )


def count_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def populate(
    user: Any,
    case: Case,
    *,
    entities: int,
    relationships: int,
    movements: int,
    notes: int,
    evidence: int,
) -> None:
    """Fill a case with records of every kind, through the services."""
    people = [
        make_entity(user, case, Entity.Kind.PERSON, name=f"Person {n:03d}")
        for n in range(entities - 2)
    ]
    places = [
        make_entity(user, case, Entity.Kind.LOCATION, name=name)
        for name in ("Necoclí", "Bajo Chiquito")
    ]
    for n in range(relationships):
        services.relationship_add(
            access=case_access(user, case),
            source=people[n % len(people)],
            target=people[(n + 1) % len(people)],
            kind="communicates_with",
        )
    for n in range(movements):
        services.movement_add(
            access=case_access(user, case),
            origin=places[0],
            destination=places[1],
            moved_on=datetime.date(2026, 3, 1) + datetime.timedelta(days=n),
            means="boat",
            people_count=10 + n,
            facilitators=people[n % len(people) : n % len(people) + 2],
        )
    for n in range(notes):
        services.note_add(access=case_access(user, case), body=f"Note {n}")
    for n in range(evidence):
        upload = SimpleUploadedFile(f"file-{n}.txt", f"content {n}".encode(), "text/plain")
        services.evidence_add(access=case_access(user, case), upload=upload)


# --- list ----------------------------------------------------------------------------------


def test_case_list_shows_the_cases_of_the_users_agency_with_their_columns(
    investigator: Any, case: Case
) -> None:
    response = client_for(investigator).get(reverse("cases:list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert case.reference in content
    assert case.title in content
    assert detail_url(case) in content
    assert "handling-amber" in content
    assert "Migrant smuggling" in content
    assert "SENAFRONT" in content
    assert "Panama" in content


def test_case_list_hides_cases_of_other_agencies(outsider: Any, case: Case) -> None:
    response = client_for(outsider).get(reverse("cases:list"))
    assert response.status_code == 200
    assert case.reference not in response.content.decode()
    assert "There are no cases you may see yet." in response.content.decode()


def test_anonymous_user_is_sent_to_the_login_page(case: Case) -> None:
    from django.test import Client

    response = Client().get(reverse("cases:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_new_case_button_is_shown_only_to_members_who_may_open_cases(
    investigator: Any, analyst: Any
) -> None:
    create_url = reverse("cases:create")
    assert create_url in client_for(investigator).get(reverse("cases:list")).content.decode()
    assert create_url not in client_for(analyst).get(reverse("cases:list")).content.decode()


def test_case_list_filters_by_status_kind_and_text(investigator: Any) -> None:
    open_case = make_case(investigator, title="Darién route")
    prosecuted = make_case(
        investigator,
        title="Brothel in Colón",
        kind=Case.Kind.TRAFFICKING,
        status=Case.Status.PROSECUTION,
    )
    client = client_for(investigator)

    def listed(**params: str) -> list[Case]:
        response = client.get(reverse("cases:list"), params)
        assert response.status_code == 200
        return list(response.context["page"])

    assert listed(status="prosecution") == [prosecuted]
    assert listed(kind="smuggling") == [open_case]
    assert listed(q="colón") == [prosecuted]
    assert listed(q=open_case.reference[-5:]) == [open_case]
    assert listed(status="open", kind="trafficking") == []


def test_country_filter_matches_the_owner_country_or_the_countries_involved(
    investigator: Any, outsider: Any, pa_police: Agency
) -> None:
    involving_costa_rica = make_case(investigator, countries=[Country.objects.get(code="CR")])
    panama_only = make_case(investigator)
    costa_rican = make_case(outsider)
    grant_view(costa_rican, pa_police)
    client = client_for(investigator)

    def listed(country: str) -> set[Case]:
        return set(client.get(reverse("cases:list"), {"country": country}).context["page"])

    assert listed("CR") == {involving_costa_rica, costa_rican}
    assert listed("PA") == {involving_costa_rica, panama_only}
    assert listed("MX") == set()


def test_invalid_filter_values_are_ignored_and_shown_as_errors(
    investigator: Any, case: Case
) -> None:
    response = client_for(investigator).get(
        reverse("cases:list"), {"status": "evil", "country": "XX", "kind": "open"}
    )
    assert response.status_code == 200
    assert list(response.context["page"]) == [case]
    assert set(response.context["form"].errors) == {"status", "country", "kind"}
    assert "This filter was ignored." in response.content.decode()


def test_every_ordering_has_a_label_and_sorts_the_list(investigator: Any) -> None:
    assert set(ORDER_LABELS) == set(CASE_ORDERINGS)
    cases = [make_case(investigator, title=title) for title in ("Bravo", "Alpha", "Charlie")]
    client = client_for(investigator)

    def references(order: str) -> list[str]:
        response = client.get(reverse("cases:list"), {"order": order})
        assert response.status_code == 200
        return [case.reference for case in response.context["page"]]

    ascending = sorted(case.reference for case in cases)
    assert references("reference") == ascending
    assert references("-reference") == ascending[::-1]
    assert [
        c.title for c in client.get(reverse("cases:list"), {"order": "title"}).context["page"]
    ] == ["Alpha", "Bravo", "Charlie"]


def test_unknown_ordering_is_ignored_with_an_error(investigator: Any) -> None:
    first = make_case(investigator)
    second = make_case(investigator)
    response = client_for(investigator).get(reverse("cases:list"), {"order": "evil"})
    assert response.status_code == 200
    assert "order" in response.context["form"].errors
    assert list(response.context["page"]) == [second, first]


def test_case_list_is_paginated_and_keeps_the_filters(investigator: Any) -> None:
    for _n in range(27):
        make_case(investigator)
    client = client_for(investigator)
    url = reverse("cases:list")
    first = client.get(url, {"kind": "smuggling"})
    assert len(first.context["page"]) == 25
    assert "?kind=smuggling&amp;page=2" in first.content.decode()
    second = client.get(url, {"kind": "smuggling", "page": "2"})
    assert second.context["page"].number == 2
    assert len(second.context["page"]) == 2


# casebook.listparams: a number below 1 is page 1, one past the end the last page.
@pytest.mark.parametrize(("page", "expected"), [("abc", 1), ("99", 2), ("-1", 1), ("", 1)])
def test_bad_page_numbers_show_the_first_or_last_page(
    investigator: Any, page: str, expected: int
) -> None:
    for _n in range(26):
        make_case(investigator)
    response = client_for(investigator).get(reverse("cases:list"), {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == expected


def test_empty_filtered_list_says_nothing_matches(investigator: Any, case: Case) -> None:
    response = client_for(investigator).get(reverse("cases:list"), {"status": "archived"})
    assert "No case matches these filters." in response.content.decode()


def test_case_list_query_count_does_not_grow_with_the_cases(
    investigator: Any, outsider: Any, pa_police: Agency
) -> None:
    make_case(investigator, countries=[Country.objects.get(code="CR")])
    client = client_for(investigator)
    url = reverse("cases:list") + "?country=CR&status=open"
    client.get(url)
    with_one = count_queries(client, url)
    for _n in range(30):
        grant_view(make_case(outsider), pa_police)
        make_case(investigator, countries=[Country.objects.get(code="CR")])
    assert count_queries(client, url) == with_one
    assert with_one <= 12


# --- create --------------------------------------------------------------------------------


def test_investigator_opens_cases_with_sequential_references(
    investigator: Any, pa_police: Agency
) -> None:
    client = client_for(investigator)
    response = client.post(
        reverse("cases:create"), form_data(lead_officer=investigator.pk), follow=True
    )
    first = Case.objects.get()
    assert response.redirect_chain == [(detail_url(first), 302)]
    assert first.reference == f"PA-{TODAY.year}-00001"
    assert f"Case {first.reference} opened." in response.content.decode()
    assert first.owner_agency == pa_police
    assert first.lead_officer == investigator
    assert first.created_by == investigator
    assert first.handling_code == Case.HandlingCode.RED
    assert set(first.countries.values_list("code", flat=True)) == {"CO", "CR"}

    client.post(reverse("cases:create"), form_data(title="Second"))
    assert Case.objects.get(title="Second").reference == f"PA-{TODAY.year}-00002"


def test_case_form_explains_the_handling_code_and_asks_for_a_date(investigator: Any) -> None:
    response = client_for(investigator).get(reverse("cases:create"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Traffic Light Protocol 2.0" in content
    assert 'type="date"' in content
    assert 'name="reference"' not in content
    assert content.count('name="countries"') == Country.objects.count() == 23


def test_analyst_gets_403_on_create(analyst: Any) -> None:
    client = client_for(analyst)
    assert client.get(reverse("cases:create")).status_code == 403
    assert client.post(reverse("cases:create"), form_data()).status_code == 403
    assert not Case.objects.exists()


def test_case_without_a_title_is_refused_and_nothing_stored(investigator: Any) -> None:
    response = client_for(investigator).post(reverse("cases:create"), form_data(title=""))
    assert response.status_code == 200
    assert "title" in response.context["form"].errors
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Case.objects.exists()


def test_case_opened_in_the_future_is_refused_next_to_the_date(investigator: Any) -> None:
    tomorrow = TODAY + datetime.timedelta(days=1)
    response = client_for(investigator).post(
        reverse("cases:create"), form_data(opened_on=tomorrow.isoformat())
    )
    assert response.status_code == 200
    assert response.context["form"].errors["opened_on"] == [
        "A case cannot be opened in the future."
    ]
    assert "A case cannot be opened in the future." in response.content.decode()
    assert not Case.objects.exists()


def test_lead_officer_of_another_agency_is_refused(investigator: Any, outsider: Any) -> None:
    response = client_for(investigator).post(
        reverse("cases:create"), form_data(lead_officer=outsider.pk)
    )
    assert response.status_code == 200
    assert "lead_officer" in response.context["form"].errors
    assert not Case.objects.exists()


def test_lead_officer_choices_are_the_active_members_of_the_users_agency(
    investigator: Any, analyst: Any, outsider: Any, pa_police: Agency
) -> None:
    retired = make_member(pa_police, "investigator", username="retired.pa")
    retired.is_active = False
    retired.save()
    form = client_for(investigator).get(reverse("cases:create")).context["form"]
    choices = set(form.fields["lead_officer"].queryset)
    assert choices == {investigator, analyst}


# --- edit ----------------------------------------------------------------------------------


def test_investigator_of_the_owner_agency_edits_a_case_and_history_records_it(
    case: Case, pa_police: Agency
) -> None:
    colleague = make_member(pa_police, "investigator", username="colleague.pa")
    client = client_for(colleague)
    form = client.get(edit_url(case)).context["form"]
    assert form.initial["title"] == case.title
    response = client.post(
        edit_url(case),
        form_data(
            title="Darién route, second phase",
            status=Case.Status.INVESTIGATION,
            countries=["CO"],
            lead_officer=colleague.pk,
            opened_on=case.opened_on.isoformat(),
        ),
        follow=True,
    )
    assert response.redirect_chain == [(detail_url(case), 302)]
    assert f"Case {case.reference} saved." in response.content.decode()
    case.refresh_from_db()
    assert case.title == "Darién route, second phase"
    assert case.lead_officer == colleague
    assert list(case.countries.values_list("code", flat=True)) == ["CO"]
    latest = case.history.latest()
    assert latest.history_user == colleague
    assert latest.title == "Darién route, second phase"


def test_edit_form_is_prefilled_and_keeps_reference_and_owner_fixed(
    investigator: Any, pa_police: Agency
) -> None:
    case = make_case(investigator, countries=[Country.objects.get(code="CO")])
    response = client_for(investigator).get(edit_url(case))
    content = response.content.decode()
    assert case.title in content
    checked = r'<input type="checkbox" name="countries" value="%s"[^>]* checked'
    assert re.search(checked % "CO", content)
    assert not re.search(checked % "CR", content)
    assert response.context["form"].initial["countries"] == [Country.objects.get(code="CO")]
    assert 'name="reference"' not in content
    assert 'name="owner_agency"' not in content
    client_for(investigator).post(edit_url(case), form_data(opened_on="2026-03-01"))
    case.refresh_from_db()
    assert case.owner_agency == pa_police
    assert case.reference == "PA-2026-00001"


def test_analyst_of_the_owner_agency_gets_403_on_edit(analyst: Any, case: Case) -> None:
    client = client_for(analyst)
    assert client.get(edit_url(case)).status_code == 403
    assert client.post(edit_url(case), form_data(title="Changed")).status_code == 403
    case.refresh_from_db()
    assert case.title != "Changed"


def test_outsider_gets_404_on_detail_and_edit(outsider: Any, case: Case) -> None:
    client = client_for(outsider)
    assert client.get(detail_url(case)).status_code == 404
    assert client.get(edit_url(case)).status_code == 404
    assert client.post(edit_url(case), form_data(title="Changed")).status_code == 404
    case.refresh_from_db()
    assert case.title != "Changed"


def test_invalid_edit_changes_nothing(investigator: Any, case: Case) -> None:
    response = client_for(investigator).post(edit_url(case), form_data(title=""))
    assert response.status_code == 200
    assert "title" in response.context["form"].errors
    case.refresh_from_db()
    assert case.title == "Smuggling of migrants through the Darién"
    assert case.history.count() == 1


def test_service_error_on_a_field_the_form_lacks_is_shown_on_the_form(
    investigator: Any, case: Case
) -> None:
    services.case_update(
        access=case_access(investigator, case),
        status=Case.Status.CLOSED,
        closed_on=datetime.date(2026, 3, 10),
    )
    response = client_for(investigator).post(
        edit_url(case), form_data(status=Case.Status.CLOSED, opened_on="2026-04-01")
    )
    assert response.status_code == 200
    assert "A case cannot close before it was opened." in response.content.decode()
    case.refresh_from_db()
    assert case.opened_on == datetime.date(2026, 3, 1)


# --- detail --------------------------------------------------------------------------------


def test_detail_shows_the_case_and_everything_under_it(
    investigator: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    case = make_case(
        investigator,
        summary="Boats leave Necoclí at night.\n\nThey land at Capurganá.",
        countries=[Country.objects.get(code="CO")],
        lead_officer=investigator,
    )
    suspect = make_entity(investigator, case, name="Juan Coyote")
    victim = make_entity(investigator, case, name="María Víctima", role=Entity.Role.VICTIM)
    make_entity(investigator, case, Entity.Kind.PHONE)
    origin = make_entity(investigator, case, Entity.Kind.LOCATION, name="Necoclí")
    destination = make_entity(investigator, case, Entity.Kind.LOCATION, name="Capurganá")
    services.relationship_add(
        access=case_access(investigator, case),
        source=suspect,
        target=victim,
        kind="recruits",
        started_on=datetime.date(2026, 1, 5),
        source_reliability="B",
        information_assessment="2",
    )
    services.movement_add(
        access=case_access(investigator, case),
        origin=origin,
        destination=destination,
        moved_on=datetime.date(2026, 2, 1),
        means="boat",
        people_count=34,
        facilitators=[suspect],
    )
    earlier = TODAY - datetime.timedelta(days=3)
    services.note_add(access=case_access(investigator, case), body="Older note", noted_on=earlier)
    services.note_add(access=case_access(investigator, case), body="Latest note")
    upload = SimpleUploadedFile("statement.pdf", b"x" * 2048, "application/pdf")
    evidence = services.evidence_add(access=case_access(investigator, case), upload=upload)

    response = client_for(investigator).get(detail_url(case))
    assert response.status_code == 200
    content = response.content.decode()
    for text in (
        case.reference,
        case.title,
        "handling-amber",
        "Migrant smuggling",
        "Servicio Nacional de Fronteras",
        "Colombia",
        "<p>Boats leave Necoclí at night.</p>",
        "Juan Coyote",
        "+507 6123 4567",
        "recruits",
        "B2",
        "Boat",
        "34",
        "statement.pdf",
        "2.0\xa0KB",
        evidence.sha256[:12] + "…",
        reverse("cases:entity", kwargs={"case": case.uuid, "entity": suspect.uuid}),
        reverse("cases:evidence", kwargs={"case": case.uuid, "evidence": evidence.uuid}),
    ):
        assert text in content, text
    assert evidence.sha256 not in content.replace(f'title="{evidence.sha256}"', "")
    assert content.index("Latest note") < content.index("Older note")
    assert content.index("Person") < content.index("Phone number") < content.index("Location")


def test_protected_entities_carry_a_protected_badge(investigator: Any, case: Case) -> None:
    make_entity(investigator, case, name="María Víctima", role=Entity.Role.VICTIM)
    content = client_for(investigator).get(detail_url(case)).content.decode()
    assert "María Víctima" in content
    assert content.count(">protected</span>") == 1
    make_entity(investigator, case, name="Testigo", role=Entity.Role.WITNESS)
    content = client_for(investigator).get(detail_url(case)).content.decode()
    assert content.count(">protected</span>") == 2


def test_investigator_sees_every_action_button(investigator: Any, case: Case) -> None:
    content = client_for(investigator).get(detail_url(case)).content.decode()
    assert edit_url(case) in content
    for kind in Entity.Kind.values:
        assert reverse("cases:entity_add", kwargs={"case": case.uuid, "kind": kind}) in content
    for name in ("relationship_add", "movement_add", "note_add", "evidence_add", "timeline"):
        assert reverse(f"cases:{name}", kwargs={"case": case.uuid}) in content
    assert reverse("cases:history", kwargs={"case": case.uuid}) in content


@pytest.mark.parametrize("persona", ["analyst", "supervisor"])
def test_members_who_may_not_write_see_no_write_buttons(
    persona: str, request: pytest.FixtureRequest, case: Case
) -> None:
    user = request.getfixturevalue(persona)
    response = client_for(user).get(detail_url(case))
    assert response.status_code == 200
    content = response.content.decode()
    assert edit_url(case) not in content
    assert reverse("cases:note_add", kwargs={"case": case.uuid}) not in content
    assert "Add entity" not in content
    assert reverse("cases:timeline", kwargs={"case": case.uuid}) in content
    assert reverse("cases:history", kwargs={"case": case.uuid}) in content


def test_detail_query_count_does_not_grow_with_the_records(
    investigator: Any, settings: Any, tmp_path: Any, django_assert_max_num_queries: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    small = make_case(investigator)
    populate(investigator, small, entities=5, relationships=1, movements=1, notes=1, evidence=1)
    large = make_case(investigator)
    populate(
        investigator, large, entities=200, relationships=50, movements=20, notes=20, evidence=10
    )
    client = client_for(investigator)
    client.get(detail_url(small))
    small_count = count_queries(client, detail_url(small))
    assert count_queries(client, detail_url(large)) == small_count
    with django_assert_max_num_queries(16):
        client.get(detail_url(large))
