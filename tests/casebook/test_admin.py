"""The admin is for installation administrators; it is not a way into case content."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from casebook import services
from casebook.models import Agency, Country, Member
from cases import selectors
from cases.models import Case
from tests.conftest import client_for
from tests.factories import UserFactory


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)


# --- what the admin offers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "admin:index",
        "admin:casebook_country_changelist",
        "admin:casebook_agency_changelist",
        "admin:casebook_agency_add",
        "admin:casebook_member_changelist",
        "admin:casebook_member_add",
        "admin:auth_user_changelist",
    ],
)
def test_admin_pages_open_for_a_superuser(root: Any, supervisor: Any, url: str) -> None:
    assert client_for(root).get(reverse(url)).status_code == 200


def test_countries_are_read_only(root: Any) -> None:
    client = client_for(root)
    assert client.get(reverse("admin:casebook_country_add")).status_code == 403
    page = client.get(reverse("admin:casebook_country_change", args=["PA"]))
    assert page.status_code == 200
    assert 'name="name"' not in page.content.decode()
    client.post(reverse("admin:casebook_country_change", args=["PA"]), {"name": "Elsewhere"})
    assert Country.objects.get(code="PA").name == "Panama"
    delete = client.post(reverse("admin:casebook_country_delete", args=["PA"]), {"post": "yes"})
    assert delete.status_code == 403
    assert Country.objects.count() == 23


def test_agency_and_member_history_pages_open(root: Any, supervisor: Any) -> None:
    client = client_for(root)
    agency = supervisor.member.agency
    assert client.get(reverse("admin:casebook_agency_history", args=[agency.pk])).status_code == 200
    member = supervisor.member
    assert client.get(reverse("admin:casebook_member_history", args=[member.pk])).status_code == 200


def test_non_staff_members_cannot_use_the_admin(supervisor: Any) -> None:
    response = client_for(supervisor).get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- agencies ----------------------------------------------------------------------------------


def test_creating_an_agency_in_the_admin_creates_its_group(root: Any) -> None:
    groups_before = Group.objects.count()
    response = client_for(root).post(
        reverse("admin:casebook_agency_add"),
        {
            "name": "Unidad de Trata de Personas",
            "acronym": "UTP",
            "country": "GT",
            "kind": "police",
            "contact_point": "utp@example.org",
        },
    )
    assert response.status_code == 302
    agency = Agency.objects.get(name="Unidad de Trata de Personas")
    assert agency.group.name == f"agency:{agency.uuid}"
    assert Group.objects.count() == groups_before + 1
    assert agency.history.get().history_user == root


def test_a_duplicate_agency_is_refused_in_the_admin(root: Any, pa_police: Agency) -> None:
    groups_before = Group.objects.count()
    response = client_for(root).post(
        reverse("admin:casebook_agency_add"),
        {"name": pa_police.name, "country": "PA", "kind": "border"},
    )
    assert response.status_code == 200
    assert Agency.objects.filter(name=pa_police.name).count() == 1
    assert Group.objects.count() == groups_before


def test_editing_an_agency_keeps_its_group(root: Any, pa_police: Agency) -> None:
    group = pa_police.group
    response = client_for(root).post(
        reverse("admin:casebook_agency_change", args=[pa_police.pk]),
        {
            "name": pa_police.name,
            "acronym": "SNF",
            "country": "PA",
            "kind": "border",
            "contact_point": "",
        },
    )
    assert response.status_code == 302
    pa_police.refresh_from_db()
    assert (pa_police.acronym, pa_police.group) == ("SNF", group)


def test_agency_create_service_refuses_a_duplicate_and_stores_nothing(pa_police: Agency) -> None:
    groups_before = Group.objects.count()
    with pytest.raises(ValidationError) as error:
        services.agency_create(
            name=pa_police.name,
            country=pa_police.country,
            kind=Agency.Kind.BORDER,
            acronym="",
            contact_point="",
        )
    assert "name" in error.value.message_dict
    assert Group.objects.count() == groups_before


def test_agencies_and_members_cannot_be_deleted(root: Any, supervisor: Any) -> None:
    client = client_for(root)
    agency = supervisor.member.agency
    url = reverse("admin:casebook_agency_delete", args=[agency.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    url = reverse("admin:casebook_member_delete", args=[supervisor.member.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Member.objects.filter(pk=supervisor.member.pk).exists()


# --- members -------------------------------------------------------------------------------


def test_seating_a_member_in_the_admin_puts_them_in_the_agencys_group(
    root: Any, pa_police: Agency, case: Case
) -> None:
    user = UserFactory.create(username="first.supervisor")
    response = client_for(root).post(
        reverse("admin:casebook_member_add"),
        {"user": user.pk, "agency": pa_police.pk, "is_supervisor": "on"},
    )
    assert response.status_code == 302
    member = Member.objects.get(user=user)
    assert (member.agency, member.roles) == (pa_police, ["supervisor"])
    assert pa_police.group in user.groups.all()
    assert member.history.get().history_user == root
    assert list(selectors.case_list(user)) == [case]


def test_admin_cannot_make_themselves_a_member(root: Any, pa_police: Agency, case: Case) -> None:
    response = client_for(root).post(
        reverse("admin:casebook_member_add"),
        {"user": root.pk, "agency": pa_police.pk, "is_investigator": "on"},
    )
    assert response.status_code == 200
    assert "You cannot make yourself a member" in response.content.decode()
    assert not Member.objects.filter(user=root).exists()
    assert not root.groups.exists()


def test_a_member_needs_a_role_in_the_admin(root: Any, pa_police: Agency) -> None:
    user = UserFactory.create(username="no.roles")
    response = client_for(root).post(
        reverse("admin:casebook_member_add"), {"user": user.pk, "agency": pa_police.pk}
    )
    assert response.status_code == 200
    assert not Member.objects.filter(user=user).exists()


def test_members_cannot_be_moved_to_another_agency_in_the_admin(
    root: Any, investigator: Any, cr_police: Agency
) -> None:
    member = investigator.member
    client_for(root).post(
        reverse("admin:casebook_member_change", args=[member.pk]),
        {"agency": cr_police.pk, "is_investigator": "on", "is_analyst": "on"},
    )
    member.refresh_from_db()
    assert member.agency != cr_police
    assert member.roles == ["investigator", "analyst"]


def test_group_membership_is_read_only_in_the_user_admin(root: Any, cr_police: Agency) -> None:
    page = client_for(root).get(reverse("admin:auth_user_change", args=[root.pk]))
    assert page.status_code == 200
    assert 'name="groups"' not in page.content.decode()


# --- no back door into case content ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/cases/", "/admin/cases/case/", "/admin/cases/entity/"])
def test_case_models_are_not_in_the_admin(root: Any, case: Case, path: str) -> None:
    assert client_for(root).get(path).status_code == 404


def test_case_change_page_is_not_in_the_admin(root: Any, case: Case) -> None:
    response = client_for(root).get(f"/admin/cases/case/{case.pk}/change/")
    assert response.status_code == 404


def test_superuser_without_membership_sees_no_case_on_the_case_list(root: Any, case: Case) -> None:
    response = client_for(root).get(reverse("cases:list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert case.reference not in content
    assert case.title not in content


def test_superuser_without_membership_gets_404_on_a_case(root: Any, case: Case) -> None:
    response = client_for(root).get(reverse("cases:detail", kwargs={"case": case.uuid}))
    assert response.status_code == 404
    assert case.title not in response.content.decode()
