"""Case services: references, rules, history, and nothing half-stored on failure."""

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from casebook.models import Country
from cases import services
from cases.models import (
    Case,
    CaseCountry,
    CaseGroupObjectPermission,
    Entity,
    MatchKey,
    Movement,
    Relationship,
)
from cases.permissions import OWNER_PERMISSIONS
from cases.selectors import case_access
from cases.services import cases as case_services
from cases.services import entities as entity_services
from tests.factories import AgencyFactory, make_case, make_entity, make_member


def test_references_run_per_country_and_year_and_are_never_reused(
    investigator: Any, outsider: Any
) -> None:
    first = make_case(investigator)
    second = make_case(investigator)
    costa_rica = make_case(outsider)
    last_year = make_case(investigator, opened_on=datetime.date(2025, 12, 31))
    assert [first.reference, second.reference] == ["PA-2026-00001", "PA-2026-00002"]
    assert costa_rica.reference == "CR-2026-00001"
    assert last_year.reference == "PA-2025-00001"
    second.delete()
    assert make_case(investigator).reference == "PA-2026-00003"


def test_two_agencies_of_one_country_share_the_sequence(investigator: Any) -> None:
    prosecution = AgencyFactory.create(
        country=Country.objects.get(code="PA"), name="Ministerio Público"
    )
    prosecutor = make_member(prosecution, "investigator", username="fiscal.pa")
    assert make_case(investigator).reference == "PA-2026-00001"
    assert make_case(prosecutor).reference == "PA-2026-00002"


def test_case_create_grants_the_owner_agency_its_permissions(case: Case) -> None:
    codenames = set(
        CaseGroupObjectPermission.objects.filter(content_object=case).values_list(
            "permission__codename", flat=True
        )
    )
    assert codenames == set(OWNER_PERMISSIONS)


def test_case_history_records_the_acting_user_and_countries(investigator: Any) -> None:
    case = make_case(investigator, countries=[Country.objects.get(code="CO")])
    services.case_update(
        access=case_access(investigator, case),
        status=Case.Status.INVESTIGATION,
        countries=[Country.objects.get(code="PA"), Country.objects.get(code="CR")],
    )
    latest = case.history.first()
    assert latest.history_user == investigator
    assert latest.status == Case.Status.INVESTIGATION
    assert latest.prev_record.status == Case.Status.OPEN
    country_events = {
        (h.country_id, h.history_type) for h in CaseCountry.history.filter(case_id=case.pk)
    }
    assert country_events == {("CO", "+"), ("CO", "-"), ("PA", "+"), ("CR", "+")}


def test_closing_sets_and_reopening_clears_the_closing_date(investigator: Any, case: Case) -> None:
    services.case_update(access=case_access(investigator, case), status=Case.Status.CLOSED)
    assert case.closed_on is not None
    services.case_update(access=case_access(investigator, case), status=Case.Status.INVESTIGATION)
    assert case.closed_on is None


def test_a_case_cannot_open_in_the_future(investigator: Any) -> None:
    with pytest.raises(ValidationError) as error:
        make_case(investigator, opened_on=datetime.date(2999, 1, 1))
    assert "opened_on" in error.value.message_dict
    assert not Case.objects.exists()


def test_lead_officer_must_belong_to_the_owner_agency(investigator: Any, outsider: Any) -> None:
    with pytest.raises(ValidationError) as error:
        make_case(investigator, lead_officer=outsider)
    assert "lead_officer" in error.value.message_dict
    assert not Case.objects.exists()


def test_failure_half_way_through_case_create_leaves_nothing(
    investigator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kwargs: Any) -> None:
        raise IntegrityError("simulated failure after the case row was written")

    monkeypatch.setattr(case_services, "grant_owner_permissions", explode)
    with pytest.raises(IntegrityError):
        make_case(investigator, countries=[Country.objects.get(code="CO")])
    assert not Case.objects.exists()
    assert not CaseCountry.objects.exists()
    assert not Case.history.exists()
    # The sequence did not advance either: the failed case used no number.
    monkeypatch.undo()
    assert make_case(investigator).reference == "PA-2026-00001"


def test_failure_half_way_through_entity_add_leaves_nothing(
    investigator: Any, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(entity: Entity, keys: list[Any]) -> None:
        raise IntegrityError("simulated failure while storing match keys")

    monkeypatch.setattr(entity_services, "_store_match_keys", explode)
    with pytest.raises(IntegrityError):
        make_entity(investigator, case, Entity.Kind.PHONE)
    assert not Entity.objects.exists()
    assert not Entity.history.exists()
    assert not MatchKey.objects.exists()


def test_entity_add_stores_normalised_match_keys(investigator: Any, case: Case) -> None:
    phone = make_entity(investigator, case, Entity.Kind.PHONE, identifier="6123-4567")
    person = make_entity(
        investigator,
        case,
        Entity.Kind.PERSON,
        name="Pérez, José",
        aliases="Pepe Pérez",
        birth_date=datetime.date(1990, 5, 17),
    )
    assert list(phone.match_keys.values_list("key", flat=True)) == ["phone:+50761234567"]
    assert set(person.match_keys.values_list("key", flat=True)) == {
        "name:jose perez|1990-05-17",
        "name:pepe perez|1990-05-17",
    }


def test_entity_update_replaces_its_match_keys(investigator: Any, case: Case) -> None:
    phone = make_entity(investigator, case, Entity.Kind.PHONE, identifier="6123-4567")
    services.entity_update(
        access=case_access(investigator, phone.case), entity=phone, identifier="+506 8312 3456"
    )
    assert list(phone.match_keys.values_list("key", flat=True)) == ["phone:+50683123456"]


def test_invalid_identifier_is_refused_by_field(investigator: Any, case: Case) -> None:
    with pytest.raises(ValidationError) as error:
        make_entity(investigator, case, Entity.Kind.PHONE, identifier="123")
    assert "identifier" in error.value.message_dict
    assert not Entity.objects.exists()


def test_birth_date_in_the_future_is_refused(investigator: Any, case: Case) -> None:
    with pytest.raises(ValidationError) as error:
        make_entity(investigator, case, birth_date=datetime.date(2999, 1, 1))
    assert "birth_date" in error.value.message_dict


@pytest.mark.parametrize(("field", "value"), [("latitude", 90.5), ("longitude", -181)])
def test_coordinates_out_of_range_are_refused(
    investigator: Any, case: Case, field: str, value: float
) -> None:
    with pytest.raises(ValidationError) as error:
        make_entity(investigator, case, Entity.Kind.LOCATION, **{field: value})
    assert field in error.value.message_dict
    assert not Entity.objects.exists()


def test_relationship_between_entities_of_two_cases_is_refused(
    investigator: Any, case: Case
) -> None:
    other = make_case(investigator, title="Other")
    here = make_entity(investigator, case)
    there = make_entity(investigator, other)
    with pytest.raises(ValidationError) as error:
        services.relationship_add(
            access=case_access(investigator, case), source=here, target=there, kind="pays"
        )
    assert "target" in error.value.message_dict
    assert not Relationship.objects.exists()


def test_holder_must_be_in_the_same_case(investigator: Any, case: Case) -> None:
    other = make_case(investigator, title="Other")
    stranger = make_entity(investigator, other)
    with pytest.raises(ValidationError) as error:
        make_entity(investigator, case, Entity.Kind.PHONE, holder=stranger)
    assert "holder" in error.value.message_dict


@pytest.mark.parametrize("count", [0, -3])
def test_movement_count_must_be_positive(investigator: Any, case: Case, count: int) -> None:
    origin = make_entity(investigator, case, Entity.Kind.LOCATION, name="Necoclí")
    destination = make_entity(investigator, case, Entity.Kind.LOCATION, name="Acandí")
    with pytest.raises(ValidationError) as error:
        services.movement_add(
            access=case_access(investigator, case),
            origin=origin,
            destination=destination,
            moved_on=datetime.date(2026, 3, 2),
            means="boat",
            people_count=count,
        )
    assert "people_count" in error.value.message_dict
    assert not Movement.objects.exists()


def test_movement_needs_locations(investigator: Any, case: Case) -> None:
    origin = make_entity(investigator, case, Entity.Kind.LOCATION, name="Necoclí")
    person = make_entity(investigator, case)
    with pytest.raises(ValidationError) as error:
        services.movement_add(
            access=case_access(investigator, case),
            origin=origin,
            destination=person,
            moved_on=datetime.date(2026, 3, 2),
            means="boat",
            people_count=3,
        )
    assert "destination" in error.value.message_dict


def test_removing_an_entity_removes_its_relationships_with_history(
    investigator: Any, case: Case
) -> None:
    a = make_entity(investigator, case, name="Ana")
    b = make_entity(investigator, case, name="Beto")
    services.relationship_add(
        access=case_access(investigator, case), source=a, target=b, kind="pays"
    )
    services.entity_remove(access=case_access(investigator, a.case), entity=a)
    assert not Relationship.objects.exists()
    deleted = Relationship.history.filter(history_type="-").get()
    assert deleted.history_user == investigator


def test_a_place_used_by_a_movement_cannot_be_removed(investigator: Any, case: Case) -> None:
    origin = make_entity(investigator, case, Entity.Kind.LOCATION, name="Necoclí")
    destination = make_entity(investigator, case, Entity.Kind.LOCATION, name="Acandí")
    services.movement_add(
        access=case_access(investigator, case),
        origin=origin,
        destination=destination,
        moved_on=datetime.date(2026, 3, 2),
        means="boat",
        people_count=12,
    )
    with pytest.raises(ValidationError):
        services.entity_remove(access=case_access(investigator, origin.case), entity=origin)
    assert Entity.objects.filter(pk=origin.pk).exists()


def test_note_must_not_be_blank(investigator: Any, case: Case) -> None:
    with pytest.raises(ValidationError):
        services.note_add(access=case_access(investigator, case), body="   ")
