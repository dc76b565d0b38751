"""The admin is for installation administrators; it is not a way into case content."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from casebook import services
from casebook.models import AccessLog, Agency, Country, Member, Notification, PasswordLink
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
    root: Any,
    pa_police: Agency,
    case: Case,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: Any,
) -> None:
    user = UserFactory.create(username="first.supervisor")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(root).post(
            reverse("admin:casebook_member_add"), {"user": user.pk, "agency": pa_police.pk}
        )
    assert response.status_code == 302
    member = Member.objects.get(user=user)
    assert (member.agency, member.roles) == (pa_police, ["supervisor"])
    assert pa_police.group in user.groups.all()
    assert member.history.get().history_user == root
    assert list(selectors.case_list(user)) == [case]
    # The administrator does not know the first supervisor's password: the link went to them.
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert [message.to for message in mailoutbox] == [[user.email]]
    assert PasswordLink.objects.filter(user=user, used_at__isnull=True).count() == 1


def test_admin_cannot_seat_a_member_of_an_agency_that_has_a_supervisor(
    root: Any, supervisor: Any, pa_police: Agency
) -> None:
    user = UserFactory.create(username="controlled.account")
    response = client_for(root).post(
        reverse("admin:casebook_member_add"), {"user": user.pk, "agency": pa_police.pk}
    )
    assert response.status_code == 200
    assert "only its supervisors add members" in response.content.decode()
    assert not Member.objects.filter(user=user).exists()
    assert not user.groups.exists()


def test_admin_cannot_seat_an_administrators_account(
    root: Any, pa_police: Agency, django_user_model: Any
) -> None:
    other = django_user_model.objects.create_superuser("root2", "root2@example.org", "x" * 16)
    response = client_for(root).post(
        reverse("admin:casebook_member_add"), {"user": other.pk, "agency": pa_police.pk}
    )
    assert response.status_code == 200
    assert "An administrator&#x27;s account cannot be a member" in response.content.decode()
    assert not Member.objects.filter(user=other).exists()


def test_admin_cannot_make_themselves_a_member(root: Any, pa_police: Agency, case: Case) -> None:
    response = client_for(root).post(
        reverse("admin:casebook_member_add"),
        {"user": root.pk, "agency": pa_police.pk, "is_investigator": "on"},
    )
    assert response.status_code == 200
    assert "You cannot make yourself a member" in response.content.decode()
    assert not Member.objects.filter(user=root).exists()
    assert not root.groups.exists()


def test_admin_cannot_move_members_or_change_their_roles(
    root: Any, investigator: Any, cr_police: Agency
) -> None:
    # Before: the admin could add roles to a member (e.g. one whose account it controls).
    member = investigator.member
    response = client_for(root).post(
        reverse("admin:casebook_member_change", args=[member.pk]),
        {"agency": cr_police.pk, "is_investigator": "on", "is_analyst": "on"},
    )
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.agency != cr_police
    assert member.roles == ["investigator"]


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


# --- no passwords in the admin, and every action on an account logged -------------------------


def test_user_add_form_has_no_password_and_the_account_gets_none(root: Any) -> None:
    client = client_for(root)
    page = client.get(reverse("admin:auth_user_add"))
    assert 'type="password"' not in page.content.decode()
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "new.admin",
            "email": "new.admin@example.org",
            "first_name": "New",
            "last_name": "Admin",
            "password1": "chosen-by-the-admin-1234",
            "password2": "chosen-by-the-admin-1234",
        },
    )
    assert response.status_code == 302
    user = UserFactory._meta.model.objects.get(username="new.admin")
    assert not user.has_usable_password()
    row = AccessLog.objects.get(action=AccessLog.Action.ACCOUNT)
    assert (row.username, row.detail) == ("root", "create user: new.admin")


def test_admin_cannot_set_or_change_a_members_password(root: Any, investigator: Any) -> None:
    client = client_for(root)
    url = reverse("admin:auth_user_password_change", args=[investigator.pk])
    assert client.get(url).status_code == 403
    response = client.post(
        url, {"password1": "the-admin-knows-1234", "password2": "the-admin-knows-1234"}
    )
    assert response.status_code == 403
    investigator.refresh_from_db()
    assert not investigator.check_password("the-admin-knows-1234")
    page = client.get(reverse("admin:auth_user_change", args=[investigator.pk]))
    assert 'name="password' not in page.content.decode()
    assert url not in page.content.decode()


def test_admin_sends_a_password_link_and_it_is_logged(
    root: Any, investigator: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(root).post(
            reverse("admin:auth_user_changelist"),
            {"action": "send_password_link", "_selected_action": [investigator.pk]},
        )
    assert response.status_code == 302
    assert [message.to for message in mailoutbox] == [[investigator.email]]
    row = AccessLog.objects.get(action=AccessLog.Action.ACCOUNT)
    assert (row.user, row.username) == (root, "root")
    assert row.detail == "send reset link: inv.pa"
    # The member's agency's supervisors see it on their access-log page.
    assert row.agency == investigator.member.agency


def user_change_data(user: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def test_admin_changing_a_members_email_is_logged_and_notified_to_supervisors(
    root: Any, investigator: Any, supervisor: Any
) -> None:
    response = client_for(root).post(
        reverse("admin:auth_user_change", args=[investigator.pk]),
        user_change_data(investigator, email="taken.over@example.org"),
    )
    assert response.status_code == 302
    investigator.refresh_from_db()
    assert investigator.email == "taken.over@example.org"
    row = AccessLog.objects.get(action=AccessLog.Action.ACCOUNT)
    assert (row.username, row.detail) == ("root", "change email: inv.pa")
    notice = Notification.objects.get(kind=Notification.Kind.ACCOUNT_CHANGED)
    assert notice.agency == investigator.member.agency
    assert notice.supervisors_only
    assert "root" in notice.message and "inv.pa" in notice.message


def test_admin_deactivating_a_member_is_logged(root: Any, investigator: Any) -> None:
    client_for(root).post(
        reverse("admin:auth_user_change", args=[investigator.pk]),
        user_change_data(investigator, is_active=""),
    )
    investigator.refresh_from_db()
    assert not investigator.is_active
    row = AccessLog.objects.get(action=AccessLog.Action.ACCOUNT)
    assert (row.username, row.detail) == ("root", "change is_active: inv.pa")


def test_admin_cannot_change_its_own_status(root: Any) -> None:
    response = client_for(root).post(
        reverse("admin:auth_user_change", args=[root.pk]),
        user_change_data(root, is_superuser=""),
    )
    assert response.status_code == 200
    root.refresh_from_db()
    assert root.is_superuser


def agency_data(agency: Agency, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": agency.name,
        "acronym": agency.acronym,
        "country": agency.country_id,
        "kind": agency.kind,
        "contact_point": agency.contact_point,
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"country": "CR"}, "country"), ({"contact_point": "attacker@example.org"}, "contact_point")],
)
def test_changing_an_agencys_country_or_contact_point_is_logged_and_notified(
    root: Any, pa_police: Agency, supervisor: Any, overrides: dict[str, Any], field: str
) -> None:
    response = client_for(root).post(
        reverse("admin:casebook_agency_change", args=[pa_police.pk]),
        agency_data(pa_police, **overrides),
    )
    assert response.status_code == 302
    row = AccessLog.objects.get(action=AccessLog.Action.AGENCY)
    assert (row.user, row.username, row.agency) == (root, "root", pa_police)
    assert row.detail == f"change {field}: {pa_police.name}"
    notice = Notification.objects.get(kind=Notification.Kind.AGENCY_CHANGED)
    assert notice.agency == pa_police
    assert "root" in notice.message
    assert (
        client_for(supervisor)
        .get(reverse("notifications"))
        .content.decode()
        .count(notice.message[:30])
    )


def test_an_unchanged_agency_save_logs_and_notifies_nothing(root: Any, pa_police: Agency) -> None:
    client_for(root).post(
        reverse("admin:casebook_agency_change", args=[pa_police.pk]), agency_data(pa_police)
    )
    assert not AccessLog.objects.filter(action=AccessLog.Action.AGENCY).exists()
    assert not Notification.objects.exists()


def test_admin_cannot_make_a_member_an_administrator(root: Any, investigator: Any) -> None:
    response = client_for(root).post(
        reverse("admin:auth_user_change", args=[investigator.pk]),
        user_change_data(investigator, is_staff="on", is_superuser="on"),
    )
    assert response.status_code == 200
    assert "A member of an agency cannot be an administrator." in response.content.decode()
    investigator.refresh_from_db()
    assert not (investigator.is_staff or investigator.is_superuser)
    assert not AccessLog.objects.exists()


def test_reverting_a_member_to_an_earlier_version_changes_no_role(
    root: Any, supervisor: Any, analyst: Any
) -> None:
    member = analyst.member
    services.member_update(actor=supervisor, member=member, roles=["investigator"])
    services.member_update(actor=supervisor, member=member, roles=["analyst"])
    earlier = member.history.filter(is_investigator=True).get()
    url = reverse("admin:casebook_member_simple_history", args=[member.pk, earlier.history_id])
    client = client_for(root)
    assert client.get(url).status_code == 200
    response = client.post(url, {"is_investigator": "on"})
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.roles == ["analyst"]


def test_reverting_an_agencys_contact_point_is_logged_and_notified(
    root: Any, pa_police: Agency
) -> None:
    client = client_for(root)
    client.post(
        reverse("admin:casebook_agency_change", args=[pa_police.pk]),
        agency_data(pa_police, contact_point="new desk"),
    )
    earlier = pa_police.history.order_by("history_id").first()
    assert earlier is not None
    url = reverse("admin:casebook_agency_simple_history", args=[pa_police.pk, earlier.history_id])
    response = client.post(url, agency_data(pa_police))
    assert response.status_code == 302
    assert AccessLog.objects.filter(action=AccessLog.Action.AGENCY).count() == 2
    assert Notification.objects.filter(kind=Notification.Kind.AGENCY_CHANGED).count() == 2


def test_the_admin_sends_administrators_to_casebooks_own_sign_in(db: Any) -> None:
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    response = Client().post("/admin/login/", {"username": "root", "password": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
