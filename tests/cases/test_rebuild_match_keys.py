"""``manage.py rebuild_match_keys``: match keys are derived data, rebuilt from entity values."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import Case, Entity, MatchKey
from tests.factories import make_case, make_entity


def rebuild(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("rebuild_match_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def keys_of(entity: Entity) -> set[str]:
    return set(MatchKey.objects.filter(entity=entity).values_list("key", flat=True))


@pytest.fixture
def entities(investigator: Any, case: Case) -> dict[str, Entity]:
    return {
        "phone": make_entity(investigator, case, Entity.Kind.PHONE),
        "person": make_entity(investigator, case, Entity.Kind.PERSON, aliases="El Paisa"),
        "place": make_entity(investigator, case, Entity.Kind.LOCATION),
        "passport": make_entity(
            investigator,
            case,
            Entity.Kind.DOCUMENT,
            subtype="passport",
            identifier="AQ 517204",
            identifier_country="CO",
        ),
    }


def test_missing_keys_are_recreated(entities: dict[str, Entity]) -> None:
    expected = {name: keys_of(entity) for name, entity in entities.items()}
    MatchKey.objects.all().delete()

    out, _err = rebuild()

    assert {name: keys_of(entity) for name, entity in entities.items()} == expected
    assert "phone:+50761234567" in expected["phone"]
    assert "4 entities checked: 4 keys were added, 0 were removed" in out


def test_stale_keys_are_removed_and_right_ones_added(entities: dict[str, Entity]) -> None:
    phone = entities["phone"]
    MatchKey.objects.filter(entity=phone).update(key="phone:+50760000000")
    MatchKey.objects.create(entity=entities["place"], case=phone.case, key="name:leftover")

    out, _err = rebuild()

    assert keys_of(phone) == {"phone:+50761234567"}
    assert keys_of(entities["place"]) == set()
    assert "1 keys were added, 2 were removed" in out


def test_keys_pointing_at_the_wrong_case_are_corrected(
    entities: dict[str, Entity], investigator: Any
) -> None:
    other = make_case(investigator, title="Another case")
    MatchKey.objects.filter(entity=entities["phone"]).update(case=other)

    rebuild()

    assert set(
        MatchKey.objects.filter(entity=entities["phone"]).values_list("case_id", flat=True)
    ) == {entities["phone"].case_id}


def test_a_second_run_changes_nothing(entities: dict[str, Entity]) -> None:
    rebuild()
    before = list(MatchKey.objects.order_by("pk").values_list("pk", "entity_id", "key"))

    out, _err = rebuild()

    assert list(MatchKey.objects.order_by("pk").values_list("pk", "entity_id", "key")) == before
    assert "0 keys were added, 0 were removed" in out


def test_entities_that_no_longer_validate_are_reported_and_keep_their_keys(
    entities: dict[str, Entity],
) -> None:
    phone = entities["phone"]
    kept = keys_of(phone)
    # As if the numbering plan had changed under a stored number.
    Entity.objects.filter(pk=phone.pk).update(identifier="+507 12")
    MatchKey.objects.filter(entity=entities["person"]).delete()

    out, err = rebuild("--batch-size", "1")

    assert keys_of(phone) == kept
    assert str(phone.uuid) in err
    assert phone.case.reference in err
    assert "not a valid phone number" in err
    assert keys_of(entities["person"])  # the run went on after the bad entity
    assert "1 entities with values that no longer validate" in out


def test_dry_run_reports_without_writing(entities: dict[str, Entity]) -> None:
    MatchKey.objects.filter(entity=entities["passport"]).delete()

    out, _err = rebuild("--dry-run")

    assert keys_of(entities["passport"]) == set()
    assert "1 keys would be added" in out


@pytest.mark.django_db
def test_an_empty_database_is_fine() -> None:
    out, _err = rebuild()

    assert "0 entities checked" in out


@pytest.mark.django_db
def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(CommandError, match="batch-size"):
        rebuild("--batch-size", "0")


def test_query_count_per_batch_does_not_grow_with_the_batch(
    entities: dict[str, Entity], investigator: Any, django_assert_max_num_queries: Any
) -> None:
    case = entities["phone"].case
    for number in range(20):
        make_entity(investigator, case, Entity.Kind.PERSON, name=f"Persona {number}")
    MatchKey.objects.all().delete()

    # count, per batch: entities, stored keys, savepoint, delete, insert, release; the end.
    with django_assert_max_num_queries(12):
        rebuild("--batch-size", "100")
