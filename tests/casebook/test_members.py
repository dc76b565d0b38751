"""Supervisors manage the members of their own agency, and of no other."""

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casebook import services
from casebook.models import Member
from cases import selectors
from tests.conftest import client_for
from tests.factories import PASSWORD, make_member

User = get_user_model()
NEW_PASSWORD = "river-lantern-quietly-47"


def new_member_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": "ana.torres",
        "first_name": "Ana",
        "last_name": "Torres",
        "email": "ana.torres@senafront.example",
        "roles": ["investigator", "analyst"],
    }
    data.update(overrides)
    return data


def edit_url(user: Any) -> str:
    return reverse("member_edit", kwargs={"member": user.member.uuid})


def edit_data(user: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "roles": user.member.roles,
    }
    data.update(overrides)
    return data


def reload(user: Any) -> Any:
    return User.objects.get(pk=user.pk)


def can_sign_in(username: str, password: str) -> bool:
    """Whether the sign-in form lets ``username`` in with ``password``."""
    client = Client()
    client.post(reverse("login"), {"username": username, "password": password})
    return "_auth_user_id" in client.session


# --- who may manage members ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["investigator", "analyst"])
def test_members_without_the_supervisor_role_get_403(
    request: pytest.FixtureRequest, persona: str, supervisor: Any
) -> None:
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("members")).status_code == 403
    assert client.get(reverse("member_add")).status_code == 403
    assert client.post(reverse("member_add"), new_member_data()).status_code == 403
    assert client.get(edit_url(supervisor)).status_code == 403
    assert client.post(edit_url(supervisor), {"action": "deactivate"}).status_code == 403
    assert reload(supervisor).is_active
    assert not User.objects.filter(username="ana.torres").exists()


def test_user_without_an_agency_gets_403_on_member_pages(django_user_model: Any) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
    client = client_for(root)
    assert client.get(reverse("members")).status_code == 403
    assert client.get(reverse("member_add")).status_code == 403


def test_anonymous_user_is_sent_to_sign_in(db: Any) -> None:
    response = Client().get(reverse("members"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_members_link_is_in_the_navigation_only_for_supervisors(
    supervisor: Any, investigator: Any
) -> None:
    assert reverse("members") in client_for(supervisor).get(reverse("dashboard")).content.decode()
    assert (
        reverse("members")
        not in client_for(investigator).get(reverse("dashboard")).content.decode()
    )


# --- the list --------------------------------------------------------------------------------


def test_supervisor_sees_the_members_of_their_own_agency_only(
    supervisor: Any, investigator: Any, analyst: Any, outsider: Any
) -> None:
    response = client_for(supervisor).get(reverse("members"))
    assert response.status_code == 200
    assert {m.user for m in response.context["members"]} == {supervisor, investigator, analyst}
    content = response.content.decode()
    assert investigator.username in content
    assert investigator.email in content
    assert "Investigator" in content
    assert outsider.username not in content
    assert edit_url(investigator) in content


def test_member_list_query_count_does_not_grow_with_the_members(
    supervisor: Any, pa_police: Any
) -> None:
    def count() -> int:
        client = client_for(supervisor)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("members")).status_code == 200
        return len(queries)

    for n in range(2):
        make_member(pa_police, "analyst", username=f"few{n}")
    few = count()
    for n in range(28):
        make_member(pa_police, "investigator", "prosecutor", username=f"many{n}")
    assert count() == few


# --- adding ----------------------------------------------------------------------------------


def test_supervisor_adds_a_member_to_their_agency(
    supervisor: Any, pa_police: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(supervisor).post(reverse("member_add"), new_member_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("members")
    user = User.objects.get(username="ana.torres")
    member = user.member
    assert member.agency == pa_police
    assert member.roles == ["investigator", "analyst"]
    assert (user.first_name, user.last_name, user.email) == (
        "Ana",
        "Torres",
        "ana.torres@senafront.example",
    )
    assert list(user.groups.all()) == [pa_police.group]
    assert member.history.get().history_user == supervisor
    # Nobody chose a password for them: they choose it with the link e-mailed to them.
    assert not user.has_usable_password()
    assert [message.to for message in mailoutbox] == [["ana.torres@senafront.example"]]


def test_new_member_sees_the_agencys_cases(supervisor: Any, case: Any) -> None:
    client_for(supervisor).post(reverse("member_add"), new_member_data())
    assert list(selectors.case_list(User.objects.get(username="ana.torres"))) == [case]


def test_add_form_shows_role_checkboxes_and_no_password_field(supervisor: Any) -> None:
    content = client_for(supervisor).get(reverse("member_add")).content.decode()
    assert 'type="checkbox" name="roles" value="supervisor"' in content
    assert 'type="password"' not in content
    assert "password" not in client_for(supervisor).get(reverse("member_add")).context["form"]


@pytest.mark.parametrize("username", ["inv.pa", "INV.PA"])
def test_taken_username_is_an_error_next_to_the_field(
    supervisor: Any, investigator: Any, username: str
) -> None:
    response = client_for(supervisor).post(
        reverse("member_add"), new_member_data(username=username)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        "A user with that username already exists."
    ]
    assert 'id="id_username"' in response.content.decode()
    assert User.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"roles": []}, "roles", "at least one role"),
        ({"username": "ana torres!"}, "username", "valid username"),
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"last_name": ""}, "last_name", "required"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_stored(
    supervisor: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = client_for(supervisor).post(reverse("member_add"), new_member_data(**overrides))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert "is-invalid" in response.content.decode()
    assert not User.objects.filter(username__in=["ana.torres", "ana torres!"]).exists()
    assert Member.objects.count() == 1


def test_member_add_stores_nothing_if_a_later_step_fails(
    supervisor: Any, pa_police: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_set_roles", fail)
    with pytest.raises(RuntimeError):
        services.member_add(
            actor=supervisor,
            agency=pa_police,
            username="ana.torres",
            first_name="Ana",
            last_name="Torres",
            email="ana@example.org",
            roles=["analyst"],
            base_url="http://testserver",
        )
    assert not User.objects.filter(username="ana.torres").exists()
    assert Member.objects.count() == 1
    assert pa_police.group.user_set.count() == 1


def test_member_add_service_takes_no_password(supervisor: Any, pa_police: Any) -> None:
    with pytest.raises(TypeError):
        services.member_add(  # type: ignore[call-arg]
            actor=supervisor,
            agency=pa_police,
            username="ana.torres",
            first_name="Ana",
            last_name="Torres",
            email="ana@example.org",
            roles=["analyst"],
            base_url="http://testserver",
            password=NEW_PASSWORD,
        )
    assert not User.objects.filter(username="ana.torres").exists()


# --- editing ---------------------------------------------------------------------------------


def test_supervisor_edits_names_email_and_roles(supervisor: Any, analyst: Any) -> None:
    response = client_for(supervisor).post(
        edit_url(analyst),
        edit_data(analyst, first_name="Marta", email="marta@example.org", roles=["prosecutor"]),
    )
    assert response.status_code == 302
    analyst = reload(analyst)
    assert (analyst.first_name, analyst.email) == ("Marta", "marta@example.org")
    assert analyst.member.roles == ["prosecutor"]
    assert analyst.member.history.first().history_user == supervisor


def test_edit_form_is_filled_with_the_members_values(supervisor: Any, analyst: Any) -> None:
    response = client_for(supervisor).get(edit_url(analyst))
    assert response.status_code == 200
    content = response.content.decode()
    assert f'value="{analyst.email}"' in content
    assert 'value="analyst" class="form-check-input" id="id_roles_2" checked' in content


def test_role_change_takes_effect_on_the_next_request(supervisor: Any, analyst: Any) -> None:
    assert not analyst.has_perm("cases.add_case")
    client_for(supervisor).post(edit_url(analyst), edit_data(analyst, roles=["investigator"]))
    assert reload(analyst).has_perm("cases.add_case")
    response = client_for(reload(analyst)).get(reverse("dashboard"))
    assert reverse("cases:create") in response.content.decode()


def test_supervisor_cannot_remove_their_own_supervisor_role(supervisor: Any) -> None:
    client_for(supervisor).post(edit_url(supervisor), edit_data(supervisor, roles=["analyst"]))
    assert reload(supervisor).member.roles == ["supervisor"]


def test_supervisor_cannot_add_roles_to_themselves(supervisor: Any) -> None:
    # Before: a supervisor could give itself the investigator role and see protected identities.
    client = client_for(supervisor)
    form = client.get(edit_url(supervisor)).context["form"]
    assert "roles" not in form.fields
    client.post(edit_url(supervisor), edit_data(supervisor, roles=["investigator", "supervisor"]))
    assert reload(supervisor).member.roles == ["supervisor"]
    assert not reload(supervisor).member.role_changes.exists()


def test_role_service_refuses_a_change_of_ones_own_roles(supervisor: Any) -> None:
    with pytest.raises(ValidationError) as error:
        services.member_update(
            actor=supervisor, member=supervisor.member, roles=["investigator", "supervisor"]
        )
    assert error.value.message_dict["roles"] == ["You cannot change your own roles."]
    assert reload(supervisor).member.roles == ["supervisor"]


def test_bad_edit_is_refused_and_nothing_changes(supervisor: Any, analyst: Any) -> None:
    response = client_for(supervisor).post(
        edit_url(analyst), edit_data(analyst, first_name="Marta", email="nope", roles=[])
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"email", "roles"}
    assert reload(analyst).first_name != "Marta"
    assert reload(analyst).member.roles == ["analyst"]


def test_supervisor_of_another_agency_gets_404_for_a_member(
    outsider: Any, analyst: Any, investigator: Any
) -> None:
    client = client_for(outsider)
    assert client.get(edit_url(analyst)).status_code == 404
    response = client.post(edit_url(analyst), edit_data(analyst, roles=["supervisor"]))
    assert response.status_code == 404
    assert client.post(edit_url(investigator), {"action": "deactivate"}).status_code == 404
    assert reload(analyst).member.roles == ["analyst"]
    assert reload(investigator).is_active


def test_unknown_member_is_a_404(supervisor: Any) -> None:
    response = client_for(supervisor).get(reverse("member_edit", kwargs={"member": uuid.uuid4()}))
    assert response.status_code == 404


def test_member_edit_query_count_is_small(
    supervisor: Any, analyst: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(supervisor)
    with django_assert_max_num_queries(10):
        assert client.get(edit_url(analyst)).status_code == 200


# --- deactivating and reactivating -----------------------------------------------------------


def test_deactivated_member_cannot_sign_in_and_nothing_is_deleted(
    supervisor: Any, investigator: Any, pa_police: Any, case: Any
) -> None:
    response = client_for(supervisor).post(edit_url(investigator), {"action": "deactivate"})
    assert response.status_code == 302
    investigator = reload(investigator)
    assert not investigator.is_active
    assert Member.objects.filter(user=investigator, agency=pa_police).exists()
    assert pa_police.group in investigator.groups.all()
    assert not can_sign_in(investigator.username, PASSWORD)
    assert investigator.member.history.first().history_change_reason == "deactivated"
    assert investigator.member.history.first().history_user == supervisor


def test_deactivated_member_loses_access_at_once(supervisor: Any, investigator: Any) -> None:
    client = client_for(investigator)
    assert client.get(reverse("dashboard")).status_code == 200
    client_for(supervisor).post(edit_url(investigator), {"action": "deactivate"})
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_deactivated_member_is_shown_as_such(supervisor: Any, investigator: Any) -> None:
    client = client_for(supervisor)
    client.post(edit_url(investigator), {"action": "deactivate"})
    assert "Deactivated" in client.get(reverse("members")).content.decode()
    assert 'value="reactivate"' in client.get(edit_url(investigator)).content.decode()


def test_supervisor_cannot_deactivate_themselves(supervisor: Any) -> None:
    client = client_for(supervisor)
    response = client.post(edit_url(supervisor), {"action": "deactivate"}, follow=True)
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in response.content.decode()
    assert reload(supervisor).is_active


def test_reactivated_member_can_sign_in_again(supervisor: Any, investigator: Any) -> None:
    client = client_for(supervisor)
    client.post(edit_url(investigator), {"action": "deactivate"})
    response = client.post(edit_url(investigator), {"action": "reactivate"})
    assert response.status_code == 302
    assert reload(investigator).is_active
    assert can_sign_in(investigator.username, PASSWORD)
    assert reload(investigator).member.roles == ["investigator"]


def test_deactivation_needs_a_post(supervisor: Any, investigator: Any) -> None:
    client_for(supervisor).get(edit_url(investigator), {"action": "deactivate"})
    assert reload(investigator).is_active
