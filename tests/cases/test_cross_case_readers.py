"""Cross-case readers (``cases.selectors.visible``) and the access value
(``cases.selectors.access``): what a member sees across many cases is what the case pages
show them one case at a time, masked the same way, in a number of queries that does not grow
with the cases.

Personas: ``investigator`` (Panama's border police, owner of both cases), ``analyst`` (the same
agency, whose role may not see protected identities), ``partner`` (Guatemala's police, both
cases shared at the view level without protected identities) and ``outsider`` (Costa Rica,
nothing shared).
"""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from casebook.auth import role_permissions
from casebook.models import Agency, Country
from cases import selectors, services
from cases.models import Case, CaseShare, Entity, Movement, Relationship
from cases.permissions import CaseAccess
from cases.protection import is_masked
from cases.selectors import agency_group_ids
from cases.selectors.access import (
    GrantRow,
    case_access,
    case_accesses,
    case_grant_rows,
)
from cases.selectors.visible import (
    MatchEdge,
    visible_entities,
    visible_matches,
    visible_movements,
    visible_relationships,
)
from tests.factories import AgencyFactory, make_case, make_entity, make_member

VICTIM = "María López Ríos"
VICTIM_BORN = datetime.date(1990, 5, 1)
# The suspect's phone in the first case is the victim's phone in the second.
SHARED_PHONE = "+507 6000 0001"
PURPOSE = "Joint investigation of the Darién route"


@pytest.fixture
def gt_police(db: Any) -> Agency:
    return AgencyFactory.create(
        country=Country.objects.get(code="GT"), name="Policía Nacional Civil", acronym="PNC"
    )


@pytest.fixture
def partner(gt_police: Agency) -> User:
    # An investigator: the role may see protected identities, the agency's share does not.
    return make_member(gt_police, "investigator", username="inv.gt")


@dataclass
class CaseWorld:
    """One case's records, as created by its owner."""

    case: Case
    suspect: Entity
    victim: Entity
    witness: Entity
    phone: Entity  # the suspect's in the first case, the victim's in the second
    victim_phone: Entity
    relationship: Relationship
    movement: Movement


def build_case(investigator: User, *, title: str, phone_held_by_victim: bool) -> CaseWorld:
    case = make_case(investigator, title=title)
    suspect = make_entity(investigator, case, name="José Pérez")
    victim = make_entity(
        investigator, case, name=VICTIM, role=Entity.Role.VICTIM, birth_date=VICTIM_BORN,
        nationality="VE",
    )  # fmt: skip
    witness = make_entity(investigator, case, name="Ana Gómez", role=Entity.Role.WITNESS)
    holder = victim if phone_held_by_victim else suspect
    phone = make_entity(
        investigator, case, Entity.Kind.PHONE, identifier=SHARED_PHONE, holder=holder,
        role=Entity.Role.OTHER,
    )  # fmt: skip
    victim_phone = make_entity(
        investigator, case, Entity.Kind.PHONE, identifier=f"+507 6999 000{case.pk % 10}",
        holder=victim, role=Entity.Role.OTHER,
    )  # fmt: skip
    origin = make_entity(investigator, case, Entity.Kind.LOCATION, name="Bajo Chiquito")
    destination = make_entity(investigator, case, Entity.Kind.LOCATION, name="Lajas Blancas")
    relationship = services.relationship_add(
        access=case_access(investigator, case), source=suspect, target=victim, kind="recruits",
        evidence_note="Met her at the bus terminal in Caracas",
    )  # fmt: skip
    movement = services.movement_add(
        access=case_access(investigator, case), origin=origin, destination=destination,
        moved_on=datetime.date(2026, 2, 3), means="foot", people_count=12,
        facilitators=[suspect, witness], description="Crossed at night with a guide",
    )  # fmt: skip
    # Nothing protected about this one: its description is shown to everyone.
    services.movement_add(
        access=case_access(investigator, case), origin=destination, destination=origin,
        moved_on=datetime.date(2026, 2, 9), means="bus", people_count=3, facilitators=[suspect],
        description="Back by bus the next week",
    )  # fmt: skip
    return CaseWorld(case, suspect, victim, witness, phone, victim_phone, relationship, movement)


def share(supervisor: User, case: Case, agency: Agency, **values: Any) -> CaseShare:
    values.setdefault("level", CaseShare.Level.VIEW)
    values.setdefault("purpose", PURPOSE)
    return services.case_share(access=case_access(supervisor, case), agency=agency, **values)


@pytest.fixture
def first(investigator: User) -> CaseWorld:
    return build_case(investigator, title="Darién, first route", phone_held_by_victim=False)


@pytest.fixture
def second(investigator: User) -> CaseWorld:
    return build_case(investigator, title="Darién, second route", phone_held_by_victim=True)


@pytest.fixture
def shared(
    first: CaseWorld, second: CaseWorld, supervisor: User, gt_police: Agency, partner: User
) -> tuple[CaseWorld, CaseWorld]:
    """Both cases shared with the partner agency at the view level, victims not included."""
    share(supervisor, first.case, gt_police)
    share(supervisor, second.case, gt_police)
    return first, second


def fresh(user: User) -> User:
    """The user as a new request reads it: nothing cached on the instance."""
    return User.objects.get(pk=user.pk)


def names(entities: Sequence[Entity]) -> list[str]:
    return [entity.name for entity in entities]


def by_id(entities: Sequence[Entity]) -> dict[int, Entity]:
    return {entity.pk: entity for entity in entities}


# --- entities ---------------------------------------------------------------------------------


def test_owner_sees_the_victim_of_both_cases_by_name(
    shared: tuple[CaseWorld, CaseWorld], investigator: User
) -> None:
    entities = by_id(visible_entities(investigator))

    for world in shared:
        victim = entities[world.victim.pk]
        assert (victim.name, victim.birth_date, victim.nationality) == (VICTIM, VICTIM_BORN, "VE")
        assert not is_masked(victim)


def test_partner_sees_the_victim_of_both_cases_as_a_pseudonym_of_its_own_case(
    shared: tuple[CaseWorld, CaseWorld], partner: User
) -> None:
    entities = by_id(visible_entities(partner))

    for world in shared:
        victim = entities[world.victim.pk]
        assert victim.name == f"Victim 1 of {world.case.reference}"
        assert (victim.birth_date, victim.nationality) == (None, "")
        assert is_masked(victim)
        phone = entities[world.victim_phone.pk]
        assert (phone.name, phone.identifier) == (
            f"Phone number of Victim 1 of {world.case.reference}",
            "",
        )
        # The suspect is no protected identity: shown as the owner sees them.
        assert entities[world.suspect.pk].name == "José Pérez"
    assert VICTIM not in names(list(entities.values()))


def test_analyst_of_the_owner_agency_sees_pseudonyms_their_role_may_not_see(
    shared: tuple[CaseWorld, CaseWorld], analyst: User
) -> None:
    entities = by_id(visible_entities(analyst))

    assert entities[shared[0].victim.pk].name == f"Victim 1 of {shared[0].case.reference}"


def test_each_victim_is_clear_where_its_case_shows_protected_identities_and_masked_elsewhere(
    first: CaseWorld, second: CaseWorld, supervisor: User, gt_police: Agency, partner: User
) -> None:
    share(supervisor, first.case, gt_police, include_protected=True)
    share(supervisor, second.case, gt_police)

    entities = by_id(visible_entities(partner))

    assert entities[first.victim.pk].name == VICTIM
    assert entities[second.victim.pk].name == f"Victim 1 of {second.case.reference}"


def test_entities_carry_their_case_and_are_limited_to_the_cases_and_kinds_asked_for(
    shared: tuple[CaseWorld, CaseWorld], partner: User
) -> None:
    first, second = shared

    phones = visible_entities(partner, case_ids=[second.case.pk], kinds=[Entity.Kind.PHONE])

    assert {entity.pk for entity in phones} == {second.phone.pk, second.victim_phone.pk}
    assert {entity.case.reference for entity in phones} == {second.case.reference}


def test_entities_are_ordered_by_kind_and_id_whatever_the_viewer_sees(
    shared: tuple[CaseWorld, CaseWorld], investigator: User, partner: User
) -> None:
    for user in (investigator, partner):
        entities = visible_entities(user)
        assert [(e.kind, e.pk) for e in entities] == sorted((e.kind, e.pk) for e in entities)


# --- the same as the case page, one case at a time --------------------------------------------

PERSONAS = ["investigator", "analyst", "partner"]


def case_page(user: User, world: CaseWorld) -> selectors.CaseRecords:
    """What the case page reads for ``user`` (the one-case selectors)."""
    return selectors.case_records(selectors.get_case_access(user, world.case.uuid))


def entity_row(entity: Entity) -> tuple[Any, ...]:
    return (
        entity.pk, entity.name, entity.identifier, entity.birth_date, entity.nationality,
        entity.description, entity.latitude, is_masked(entity),
    )  # fmt: skip


@pytest.mark.parametrize("persona", PERSONAS)
def test_entities_are_shown_as_and_in_the_order_of_the_case_page(
    shared: tuple[CaseWorld, CaseWorld], persona: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    for world in shared:
        page = case_page(user, world)

        read = visible_entities(user, case_ids=[world.case.pk], viewer_order=True)

        assert [entity_row(e) for e in read] == [entity_row(e) for e in page.entities]


def relationship_row(relationship: Relationship) -> tuple[Any, ...]:
    return (
        relationship.pk,
        relationship.source.name,
        relationship.kind,
        relationship.target.name,
        relationship.evidence_note,
        is_masked(relationship),
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_relationships_are_masked_as_on_the_case_page(
    shared: tuple[CaseWorld, CaseWorld], persona: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    for world in shared:
        page = case_page(user, world)

        read = visible_relationships(user, case_ids=[world.case.pk])

        assert [relationship_row(r) for r in read] == [
            relationship_row(r) for r in page.relationships
        ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_relationships_take_their_ends_from_the_entities_read_and_mask_them_alike(
    shared: tuple[CaseWorld, CaseWorld],
    persona: str,
    request: pytest.FixtureRequest,
    django_assert_num_queries: Any,
) -> None:
    user = request.getfixturevalue(persona)
    entities = by_id(visible_entities(user))

    with django_assert_num_queries(1):
        read = visible_relationships(user, ends=entities)

    assert [relationship_row(r) for r in read] == [
        relationship_row(r) for r in visible_relationships(user)
    ]
    assert all(r.source is entities[r.source_id] for r in read)


def test_relationships_read_their_ends_when_one_is_missing_from_those_given(
    shared: tuple[CaseWorld, CaseWorld], partner: User
) -> None:
    first = shared[0]
    entities = by_id(visible_entities(partner, case_ids=[first.case.pk]))
    del entities[first.victim.pk]

    (read,) = visible_relationships(partner, case_ids=[first.case.pk], ends=entities)

    assert read.target.name == f"Victim 1 of {first.case.reference}"
    assert read.evidence_note == ""


def movement_row(movement: Movement) -> tuple[Any, ...]:
    return (
        movement.pk,
        movement.origin.name,
        movement.destination.name,
        movement.description,
        [facilitator.name for facilitator in movement.facilitators.all()],
        is_masked(movement),
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_movements_are_masked_as_on_the_case_page(
    shared: tuple[CaseWorld, CaseWorld], persona: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    for world in shared:
        page = case_page(user, world)

        read = visible_movements(user, case_ids=[world.case.pk])

        assert [movement_row(m) for m in read] == [movement_row(m) for m in page.movements]


def test_partner_reads_the_relationship_with_a_victim_without_its_evidence_note(
    shared: tuple[CaseWorld, CaseWorld], partner: User, investigator: User
) -> None:
    first = shared[0]

    (seen,) = visible_relationships(partner, case_ids=[first.case.pk])
    (owned,) = visible_relationships(investigator, case_ids=[first.case.pk])

    assert (seen.target.name, seen.evidence_note) == (f"Victim 1 of {first.case.reference}", "")
    assert (owned.target.name, owned.evidence_note) == (
        VICTIM,
        "Met her at the bus terminal in Caracas",
    )


def test_partner_reads_a_movement_with_a_witness_facilitator_without_its_description(
    shared: tuple[CaseWorld, CaseWorld], partner: User
) -> None:
    first = shared[0]

    movement, back = visible_movements(partner, case_ids=[first.case.pk])

    assert movement.description == ""
    assert f"Witness 1 of {first.case.reference}" in [f.name for f in movement.facilitators.all()]
    assert back.description == "Back by bus the next week"


# --- matches ----------------------------------------------------------------------------------


def edge(a: Entity, b: Entity, kind: str) -> MatchEdge:
    return MatchEdge(min(a.pk, b.pk), max(a.pk, b.pk), kind)


def test_owner_is_shown_every_match_between_the_two_cases(
    shared: tuple[CaseWorld, CaseWorld], investigator: User
) -> None:
    first, second = shared

    assert set(visible_matches(investigator)) == {
        edge(first.suspect, second.suspect, "name"),
        edge(first.victim, second.victim, "name"),
        edge(first.witness, second.witness, "name"),
        edge(first.phone, second.phone, "phone"),
    }


def test_partner_is_not_shown_matches_on_values_they_see_masked(
    shared: tuple[CaseWorld, CaseWorld], partner: User
) -> None:
    first, second = shared

    # The victims' and witnesses' names are masked at both ends; the phone at the second
    # case's end (the victim's there), which would tell that the victim holds the suspect's
    # number.
    assert visible_matches(partner) == [edge(first.suspect, second.suspect, "name")]


def test_a_match_is_hidden_when_only_one_end_is_masked(
    first: CaseWorld, second: CaseWorld, supervisor: User, gt_police: Agency, partner: User
) -> None:
    share(supervisor, first.case, gt_police, include_protected=True)
    share(supervisor, second.case, gt_police)

    matches = visible_matches(partner)

    assert edge(first.victim, second.victim, "name") not in matches
    assert edge(first.suspect, second.suspect, "name") in matches


def test_matches_are_limited_to_the_cases_asked_for(
    shared: tuple[CaseWorld, CaseWorld], investigator: User
) -> None:
    assert visible_matches(investigator, case_ids=[shared[0].case.pk]) == []


# --- who gets nothing -------------------------------------------------------------------------

READERS: dict[str, Callable[[User], Sequence[Any]]] = {
    "entities": lambda user: visible_entities(user),
    "relationships": lambda user: visible_relationships(user),
    "movements": lambda user: visible_movements(user),
    "matches": lambda user: visible_matches(user),
}


@pytest.mark.parametrize("reader", READERS)
def test_outsider_gets_nothing(
    shared: tuple[CaseWorld, CaseWorld], outsider: User, reader: str
) -> None:
    assert READERS[reader](outsider) == []


@pytest.mark.parametrize("reader", READERS)
def test_partner_gets_nothing_once_the_shares_expired(
    first: CaseWorld, second: CaseWorld, supervisor: User, gt_police: Agency, partner: User,
    reader: str,
) -> None:  # fmt: skip
    expiry = timezone.now() + datetime.timedelta(days=1)
    share(supervisor, first.case, gt_police, expires_at=expiry)
    share(supervisor, second.case, gt_police, expires_at=expiry)
    assert READERS[reader](fresh(partner)) != []

    with time_machine.travel(expiry + datetime.timedelta(seconds=1)):
        assert READERS[reader](fresh(partner)) == []


# --- queries ----------------------------------------------------------------------------------

# Per reader, for a user object read afresh: its agency groups, its membership (roles), then
# one query per model read (movements: theirs and their facilitators').
QUERIES = {"entities": 3, "relationships": 3, "movements": 4, "matches": 3}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("persona", ["investigator", "partner"])
def test_readers_take_as_many_queries_for_ten_cases_as_for_two(
    shared: tuple[CaseWorld, CaseWorld],
    supervisor: User,
    gt_police: Agency,
    investigator: User,
    persona: str,
    reader: str,
    request: pytest.FixtureRequest,
    django_assert_num_queries: Any,
) -> None:
    user = request.getfixturevalue(persona)
    two = fresh(user)
    with django_assert_num_queries(QUERIES[reader]):
        before = READERS[reader](two)
    for number in range(8):
        world = build_case(
            investigator, title=f"Darién, route {number + 3}", phone_held_by_victim=number % 2 == 0
        )
        share(supervisor, world.case, gt_police)
    ten = fresh(user)

    with django_assert_num_queries(QUERIES[reader]):
        read = READERS[reader](ten)

    assert before
    if reader == "matches":
        assert len(read) > len(before)
    else:
        assert len({row.case_id for row in read}) == 10


# --- the access value -------------------------------------------------------------------------


def test_case_access_says_what_the_partner_may_do(
    shared: tuple[CaseWorld, CaseWorld], partner: User
) -> None:
    access = case_access(partner, shared[0].case)

    assert access.allows("view")
    assert not access.allows("contribute")
    assert not access.sees_protected


def test_case_access_require_refuses_a_missing_action(
    shared: tuple[CaseWorld, CaseWorld], partner: User
) -> None:
    access = case_access(partner, shared[0].case)

    access.require("view")
    with pytest.raises(PermissionDenied, match="You may not do this on this case."):
        access.require("contribute")


def test_case_access_refuses_an_unknown_action_loudly(
    shared: tuple[CaseWorld, CaseWorld], investigator: User
) -> None:
    with pytest.raises(ValueError, match="unknown action"):
        case_access(investigator, shared[0].case).allows("delete")


def test_outsider_has_no_action_on_the_case(
    shared: tuple[CaseWorld, CaseWorld], outsider: User
) -> None:
    access = case_access(outsider, shared[0].case)

    assert access.actions == frozenset()
    with pytest.raises(PermissionDenied):
        access.require("view")


def test_case_accesses_are_read_in_one_query_for_many_cases(
    shared: tuple[CaseWorld, CaseWorld],
    investigator: User,
    django_assert_num_queries: Any,
) -> None:
    cases = [world.case for world in shared]
    user = fresh(investigator)
    agency_group_ids(user)
    role_permissions(user)  # cached on the user, as the groups are

    with django_assert_num_queries(1):
        accesses = case_accesses(user, cases)

    assert accesses == {
        case.pk: CaseAccess(
            user=user,
            case=case,
            actions=frozenset({"view", "contribute", "change", "view_protected"}),
        )
        for case in cases
    }
    assert all(access.sees_protected for access in accesses.values())


def test_agency_group_ids_are_the_groups_of_the_members_agency(
    partner: User, gt_police: Agency, outsider: User
) -> None:
    assert agency_group_ids(partner) == [gt_police.group_id]
    assert gt_police.group_id not in agency_group_ids(outsider)


# --- grant rows -------------------------------------------------------------------------------


def test_grant_rows_name_who_holds_what_until_when(
    first: CaseWorld, supervisor: User, pa_police: Agency, gt_police: Agency
) -> None:
    expiry = timezone.now() + datetime.timedelta(days=30)
    share(supervisor, first.case, gt_police, expires_at=expiry)

    rows = case_grant_rows([first.case.pk])

    assert GrantRow(first.case.pk, gt_police.group_id, gt_police.pk, "view_case", expiry) in rows
    assert {row.codename for row in rows if row.agency_id == pa_police.pk} == {
        "view_case", "contribute_case", "change_case", "manage_case", "view_protected",
    }  # fmt: skip
    assert {row.expires_at for row in rows if row.agency_id == pa_police.pk} == {None}


def test_grant_rows_of_many_cases_are_read_in_one_query_and_leave_out_expired_grants(
    first: CaseWorld,
    second: CaseWorld,
    supervisor: User,
    gt_police: Agency,
    django_assert_num_queries: Any,
) -> None:
    expiry = timezone.now() + datetime.timedelta(days=1)
    share(supervisor, first.case, gt_police, expires_at=expiry)
    share(supervisor, second.case, gt_police)

    with (
        time_machine.travel(expiry + datetime.timedelta(seconds=1)),
        django_assert_num_queries(1),
    ):
        rows = case_grant_rows([first.case.pk, second.case.pk])

    partner_cases = {row.case_id for row in rows if row.agency_id == gt_police.pk}
    assert partner_cases == {second.case.pk}
    assert {row.case_id for row in rows} == {first.case.pk, second.case.pk}
