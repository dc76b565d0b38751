"""``manage.py seed_demo``: the demo agencies, members and cases, and the synthetic cases for
benchmarks."""

import datetime
import random
import re
import uuid
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.test import Client, override_settings
from django.urls import reverse
from stdnum import iban

from casebook import accounts, demo
from casebook.demo.agencies import DEMO_USERNAMES
from casebook.models import Agency, Member, Notification
from cases import outbox, selectors, services, tasks
from cases.models import (
    Case,
    CaseCountry,
    CaseEvent,
    CaseGroupObjectPermission,
    Entity,
    MatchKey,
    Movement,
    Note,
    Relationship,
)
from cases.selectors import case_access
from cases.services import cases as case_services
from tests.factories import make_case, make_entity

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def row_counts() -> dict[str, int]:
    models: list[Any] = [Agency, Member, get_user_model(), Case, Entity, MatchKey, Relationship]
    counts = {model.__name__: model.objects.count() for model in models}
    counts["history"] = Case.history.count() + Entity.history.count()
    return counts


# --- refusals (on an empty database) -------------------------------------------------------


def test_the_core_knows_every_demo_user_and_no_other() -> None:
    # The core names the demo users without importing the demo (``casebook.accounts``).
    assert frozenset(DEMO_USERNAMES) == accounts.DEMO_USERNAMES


def test_seed_demo_refuses_the_demo_password_when_debug_is_off(settings: Any) -> None:
    settings.DEBUG = False
    before = row_counts()

    with pytest.raises(CommandError, match="only for development"):
        seed()

    assert row_counts() == before


def test_demo_users_get_unusable_passwords_with_no_demo_password(settings: Any) -> None:
    settings.DEBUG = False

    output = seed("--no-demo-password")

    user = get_user_model().objects.get(username="investigator.pa")
    assert not user.has_usable_password()
    assert settings.DEMO_PASSWORD not in output


def test_a_demo_username_taken_outside_its_agency_is_reported(settings: Any) -> None:
    settings.DEBUG = True
    get_user_model().objects.create_user("investigator.pa")

    with pytest.raises(CommandError, match="investigator.pa"):
        seed()

    assert not Agency.objects.exists()


# --- the demo (seeded once for the class) ------------------------------------------------


@pytest.fixture(scope="class")
def demo_output(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """The demo, seeded once for the tests of a class and rolled back after them."""
    # Class-scoped, so the per-test fast password hashing of conftest is not active yet.
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=True, PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        yield seed()
        transaction.set_rollback(True)


@pytest.mark.usefixtures("demo_output")
class TestDemo:
    def test_agencies_are_in_at_least_five_countries_of_the_corridor(self) -> None:
        agencies = Agency.objects.all()

        assert agencies.count() >= 6
        countries = set(agencies.values_list("country_id", flat=True))
        assert len(countries) >= 5
        assert {"CO", "PA", "CR", "MX"} <= countries
        assert all(agency.group.name == f"agency:{agency.uuid}" for agency in agencies)

    @pytest.mark.parametrize(
        ("username", "acronym", "role"),
        [
            ("investigator.pa", "SENAFRONT", "investigator"),
            ("supervisor.pa", "SENAFRONT", "supervisor"),
            ("prosecutor.pa", "MP", "prosecutor"),
            ("investigator.cr", "OIJ", "investigator"),
            ("prosecutor.cr", "FACTRA", "prosecutor"),
            ("investigator.co", "DIJIN", "investigator"),
            ("analyst.regional", "URA", "analyst"),
        ],
    )
    def test_stable_usernames_have_their_agency_and_role(
        self, username: str, acronym: str, role: str
    ) -> None:
        member = Member.objects.select_related("agency", "user").get(user__username=username)

        assert member.agency.acronym == acronym
        assert member.roles == [role]
        assert member.user.groups.filter(pk=member.agency.group_id).exists()

    def test_the_regional_unit_is_a_regional_analysis_agency(self) -> None:
        member = Member.objects.get(user__username="analyst.regional")

        assert member.agency.kind == Agency.Kind.REGIONAL

    def test_demo_users_sign_in_with_the_demo_password_printed_in_debug(
        self, demo_output: str, settings: Any
    ) -> None:
        user = get_user_model().objects.get(username="prosecutor.cr")

        assert user.check_password(settings.DEMO_PASSWORD)
        assert settings.DEMO_PASSWORD in demo_output
        assert "investigator.pa" in demo_output

    def test_the_newcomer_chooses_a_password_with_the_printed_one_time_link(
        self, demo_output: str
    ) -> None:
        found = re.search(r"http://\S+(/account/set-password/\S+/)", demo_output)
        assert found is not None, demo_output
        newcomer = get_user_model().objects.get(username="newcomer.pa")
        assert not newcomer.has_usable_password()
        assert newcomer.member.agency.acronym == "SENAFRONT"
        password = "a-newcomer-password-47"
        data = {"new_password1": password, "new_password2": password}
        assert Client().post(found.group(1), data).status_code == 302
        newcomer.refresh_from_db()
        assert newcomer.check_password(password)
        assert Client().post(found.group(1), data).status_code == 404

    def test_demo_users_are_not_made_to_change_the_demo_password(self, settings: Any) -> None:
        settings.DEBUG = True
        user = get_user_model().objects.get(username="investigator.pa")
        client = Client()
        client.force_login(user)

        assert not user.member.password_change_required
        assert client.get(reverse("dashboard")).status_code == 200

    def test_about_forty_cases_are_spread_over_the_agencies(self) -> None:
        cases = Case.objects.all()

        assert cases.count() >= 40
        owners = set(cases.values_list("owner_agency_id", flat=True))
        assert owners == set(Agency.objects.values_list("pk", flat=True))
        assert set(cases.values_list("kind", flat=True)) == set(Case.Kind.values)

    def test_demo_cases_are_real_service_writes_with_history_grants_and_content(self) -> None:
        for case in Case.objects.select_related("owner_agency", "created_by__member"):
            assert case.created_by.member.agency_id == case.owner_agency_id
            assert case.reference.startswith(f"{case.owner_agency.country_id}-")
            assert case.history.filter(history_user=case.created_by).exists()
            grants = CaseGroupObjectPermission.objects.filter(content_object=case)
            assert grants.filter(group_id=case.owner_agency.group_id).count() == 5
            assert case.entities.filter(kind=Entity.Kind.PERSON).count() >= 2
            assert case.notes.exists()
            assert CaseCountry.objects.filter(
                case=case, country_id=case.owner_agency.country_id
            ).exists()
        assert Relationship.objects.exclude(source_reliability="X").exists()
        assert Movement.objects.filter(people_count__gt=1).exists()
        locations = Entity.objects.filter(kind=Entity.Kind.LOCATION)
        assert not locations.filter(latitude__isnull=True).exists()

    def test_every_identifier_of_the_demo_has_its_match_key(self) -> None:
        keyed = Entity.objects.exclude(kind=Entity.Kind.LOCATION).exclude(
            kind=Entity.Kind.VEHICLE, identifier=""
        )

        assert not keyed.filter(match_keys__isnull=True).exists()

    @pytest.mark.parametrize(
        ("name", "countries"),
        [
            ("phone_pa_cr", {"PA", "CR"}),
            ("passport_pa_cr", {"PA", "CR"}),
            ("phone_co_pa", {"CO", "PA"}),
            ("iban_cr_pa", {"CR", "PA"}),
        ],
    )
    def test_shared_identifiers_match_across_agencies_of_two_countries(
        self, name: str, countries: set[str]
    ) -> None:
        key = demo.shared_match_keys()[name]

        owners = MatchKey.objects.filter(key=key).values_list(
            "case__owner_agency__acronym", "case__owner_agency__country_id"
        )

        assert len({acronym for acronym, _country in owners}) >= 2
        assert {country for _acronym, country in owners} == countries

    def test_the_shared_phone_is_in_a_senafront_and_an_oij_case(self) -> None:
        key = demo.shared_match_keys()["phone_pa_cr"]

        acronyms = set(
            MatchKey.objects.filter(key=key).values_list("case__owner_agency__acronym", flat=True)
        )

        assert acronyms == {"SENAFRONT", "OIJ"}

    def test_a_match_on_a_victims_phone_is_told_to_her_agency_only(self) -> None:
        key = demo.shared_match_keys()["victim_phone_cr_pa"]
        holders = MatchKey.objects.filter(key=key)
        assert set(holders.values_list("case__owner_agency__acronym", flat=True)) == {
            "SENAFRONT",
            "OIJ",
        }
        oij = Agency.objects.get(acronym="OIJ")
        assert oij.protected_match_policy == Agency.ProtectedMatchPolicy.OWNER_DECIDES
        # Detection and notices run after the seed commits, which this rolled-back class
        # never does: run them here, as the task would.
        victim_phone = holders.get(case__owner_agency=oij).entity_id
        found = services.hits_detect(entity_id=victim_phone, notify=False)
        assert len(found) == 1
        services.hits_notify(pairs=[sorted([found[0].entity_id, found[0].other_id])])
        notices = Notification.objects.filter(kind=Notification.Kind.HIT_PROTECTED)
        assert notices.filter(agency=oij, protected_only=True, message__contains="phone").exists()
        assert set(notices.values_list("agency__acronym", flat=True)) == {"OIJ"}
        # ... and SENAFRONT, which entered the number, is told nothing.
        client = Client()
        client.force_login(Member.objects.get(user__username="investigator.pa").user)
        hits_page = client.get(reverse("cases:hits")).content.decode()
        assert holders.get(case__owner_agency=oij).case.reference not in hits_page
        assert "8734" not in hits_page

    def test_a_second_run_creates_nothing(self, settings: Any) -> None:
        settings.DEBUG = True
        before = row_counts()

        output = seed()

        assert row_counts() == before
        assert "0 agencies, 0 members and 0 cases created" in output

    def test_synthetic_cases_are_the_same_for_the_same_seed(self) -> None:
        def run() -> list[tuple[str, str, str]]:
            with transaction.atomic():
                seed("--no-demo-password", "--cases", "30", "--seed", "1")
                rows = list(
                    Case.objects.filter(summary__startswith="Synthetic")
                    .order_by("reference")
                    .values_list("reference", "title", "owner_agency__acronym")
                )
                transaction.set_rollback(True)
            return rows

        first, second = run(), run()

        assert len(first) == 30
        assert first == second
        seed("--no-demo-password", "--cases", "30", "--seed", "2")
        other = Case.objects.filter(summary__startswith="Synthetic").values_list("title", flat=True)
        assert sorted(other) != sorted(title for _ref, title, _owner in first)

    def test_synthetic_cases_are_visible_to_their_owner_agency_only(self) -> None:
        seed("--no-demo-password", "--cases", "30", "--seed", "1")
        synthetic = Case.objects.filter(summary__startswith="Synthetic")
        users = {
            member.agency_id: member.user
            for member in Member.objects.select_related("user").filter(is_investigator=True)
        }

        for case in synthetic:
            owner = users.get(case.owner_agency_id)
            if owner is not None:
                assert selectors.case_list(owner).filter(pk=case.pk).exists()
            others = [user for agency, user in users.items() if agency != case.owner_agency_id]
            for user in others:
                assert not selectors.case_list(user).filter(pk=case.pk).exists()
        assert len({case.owner_agency_id for case in synthetic}) > 3

    def test_synthetic_cases_have_history_keys_and_valid_references(self) -> None:
        before = Case.objects.count()

        seed("--no-demo-password", "--cases", "30", "--seed", "1", "--batch-size", "7")

        synthetic = Case.objects.filter(summary__startswith="Synthetic")
        assert Case.objects.count() == before + 30
        assert Case.history.filter(id__in=synthetic.values("id")).count() == 30
        for case in synthetic.select_related("owner_agency"):
            assert case.history.get().history_user_id == case.created_by_id
            number = int(case.reference.rsplit("-", 1)[1])
            assert (
                case.reference
                == f"{case.owner_agency.country_id}-{case.opened_on.year}-{number:05d}"
            )
        entities = Entity.objects.filter(case__in=synthetic)
        assert entities.count() >= 30 * 8
        assert Entity.history.filter(case_id__in=synthetic.values("id")).count() == entities.count()
        assert Relationship.history.filter(case_id__in=synthetic.values("id")).exists()
        assert Movement.history.filter(case_id__in=synthetic.values("id")).exists()
        assert Note.history.filter(case_id__in=synthetic.values("id")).count() == 30
        phones = entities.filter(kind=Entity.Kind.PHONE)
        assert phones.exists()
        assert not phones.filter(match_keys__isnull=True).exists()
        grants = CaseGroupObjectPermission.objects.filter(content_object__in=synthetic)
        assert grants.count() == 30 * 5

    def test_references_of_synthetic_and_service_cases_never_clash(self) -> None:
        seed("--no-demo-password", "--cases", "30", "--seed", "3")
        actor = get_user_model().objects.get(username="investigator.pa")

        case = services.case_create(
            actor=actor,
            agency=actor.member.agency,
            title="Created after the synthetic cases",
            kind=Case.Kind.SMUGGLING,
            handling_code=Case.HandlingCode.AMBER,
            opened_on=Case.objects.filter(reference__startswith="PA-").latest("id").opened_on,
        )

        assert Case.objects.filter(reference=case.reference).count() == 1

    def test_synthetic_agencies_are_created_across_member_states(self) -> None:
        before = Agency.objects.count()

        seed("--no-demo-password", "--agencies", "4", "--cases", "10", "--seed", "5")
        seed("--no-demo-password", "--agencies", "4")

        assert Agency.objects.count() == before + 4
        synthetic = Agency.objects.filter(name__startswith="Synthetic agency")
        assert synthetic.values("country").distinct().count() == 4
        assert Member.objects.filter(agency__in=synthetic, is_investigator=True).count() == 4


# --- generated identifiers -----------------------------------------------------------------


@pytest.mark.parametrize("country", sorted(demo.PHONE_PATTERNS))
def test_generated_phone_numbers_are_valid_for_their_country(country: str) -> None:
    rng = random.Random(country)
    for _ in range(200):
        number = phonenumbers.parse(demo.phone_number(rng, country))

        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.region_code_for_number(number) == country


@pytest.mark.parametrize("country", sorted(demo.IBAN_BBAN_FORMATS))
def test_generated_ibans_pass_the_mod_97_check(country: str) -> None:
    rng = random.Random(country)
    for _ in range(200):
        value = demo.iban_number(rng, country)

        assert iban.is_valid(value), value
        assert value.startswith(country)


def test_iban_check_digits_match_a_published_example() -> None:
    # The Costa Rican example of the SWIFT IBAN registry.
    assert demo.iban_with_check("CR", "015202001026284066") == "CR05015202001026284066"


def test_shared_identifiers_are_written_differently_but_share_a_key() -> None:
    keys = demo.shared_match_keys()

    assert keys["phone_pa_cr"] == "phone:+50764812730"
    assert keys["passport_pa_cr"] == "document:CO:AQ517204"
    assert iban.is_valid(demo.SHARED_IBAN_CR_PA)


# --- synthetic cases follow the services' rules (issue 8, section 4) ----------------------
# The bulk writer does not copy the services' rules: it calls them for many rows at once.


@pytest.fixture
def synthetic(investigator: User, outsider: User) -> list[Case]:
    """Twelve synthetic cases, owned by Panama's and Costa Rica's police (the agencies of the
    personas), written by the bulk writer inside the test's transaction."""
    result = demo.seed_synthetic(count=12, seed=4, progress=False)
    cases = list(Case.objects.filter(reference__in=result.references).order_by("reference"))
    assert len(cases) == 12
    return cases


def owner_grants(case: Case) -> set[tuple[bool, str]]:
    """(granted to the owner agency's group?, permission) of each grant row of the case."""
    rows = CaseGroupObjectPermission.objects.filter(content_object=case).values_list(
        "group_id", "permission__codename"
    )
    return {(group == case.owner_agency.group_id, codename) for group, codename in rows}


def test_synthetic_cases_get_the_grants_case_create_gives(
    investigator: User, synthetic: list[Case]
) -> None:
    written_by_the_service = make_case(investigator)
    expected = owner_grants(written_by_the_service)

    assert len(expected) == 5
    assert [owner_grants(case) for case in synthetic] == [expected] * len(synthetic)


def test_synthetic_entities_have_the_match_keys_of_the_service(synthetic: list[Case]) -> None:
    entities = Entity.objects.filter(case__in=synthetic).select_related("case__owner_agency")
    keyed = 0

    for entity in entities:
        stored = set(MatchKey.objects.filter(entity=entity).values_list("case_id", "key"))
        expected = {(entity.case_id, key.key) for key in services.entity_match_keys(entity)}
        assert stored == expected, entity
        keyed += bool(expected)

    assert keyed >= len(synthetic) * 4


def test_references_are_reserved_in_blocks_that_next_reference_never_hands_out(
    pa_police: Agency, cr_police: Agency
) -> None:
    pa, cr = pa_police.country, cr_police.country

    first = services.next_reference(country=pa, year=2024)
    block = case_services.references_reserve(
        slots=[(pa.code, 2024), (cr.code, 2024), (pa.code, 2024), (pa.code, 2023)]
    )
    after = services.next_reference(country=pa, year=2024)

    assert first == f"{pa.code}-2024-00001"
    assert block == [
        f"{pa.code}-2024-00002",
        f"{cr.code}-2024-00001",
        f"{pa.code}-2024-00003",
        f"{pa.code}-2023-00001",
    ]
    assert after == f"{pa.code}-2024-00004"


def test_synthetic_references_follow_those_already_handed_out(investigator: User) -> None:
    opened_on = datetime.date(2024, 5, 1)
    earlier = make_case(investigator, opened_on=opened_on)
    country = investigator.member.agency.country_id

    result = demo.seed_synthetic(count=40, seed=4, progress=False)

    mine = sorted(ref for ref in result.references if ref.startswith(f"{country}-2024-"))
    assert mine, "the seed gives no case of this country and year: choose another"
    assert earlier.reference == f"{country}-2024-00001"
    assert mine[0] == f"{country}-2024-00002"


def plan_with_protected_people() -> demo.ContentPlan:
    plan = demo.ContentPlan()
    for name, role in [
        ("Victim A", Entity.Role.VICTIM),
        ("Suspect", Entity.Role.SUSPECT),
        ("Witness", Entity.Role.WITNESS),
        ("Victim B", Entity.Role.VICTIM),
        ("Informant", Entity.Role.INFORMANT),
    ]:
        plan.add(demo.EntityPlan(Entity.Kind.PERSON, {"role": role, "name": name}))
    return plan


def test_the_bulk_writer_numbers_protected_people_as_entity_add_does_after_a_removal(
    investigator: User,
) -> None:
    def written(write: Callable[[Case], object]) -> list[tuple[str, int | None]]:
        case = make_case(investigator)
        # A victim entered and removed: the history keeps her number, which nobody gets again.
        gone = make_entity(investigator, case, role=Entity.Role.VICTIM, name="Removed victim")
        services.entity_remove(access=case_access(investigator, gone.case), entity=gone)
        write(case)
        return list(
            Entity.objects.filter(case=case).order_by("pk").values_list("name", "protected_number")
        )

    through_services = written(
        lambda case: demo.write_plan(
            actor=investigator, case=case, plan=plan_with_protected_people()
        )
    )
    in_bulk = written(
        lambda case: demo.bulk_write_content([(case, investigator, plan_with_protected_people())])
    )

    assert in_bulk == through_services
    assert dict(in_bulk)["Victim A"] == 2


def test_each_synthetic_case_has_the_one_change_event_case_create_records(
    investigator: User, synthetic: list[Case]
) -> None:
    service_case = make_case(investigator)
    service_event = CaseEvent.objects.get(case=service_case)

    for case in synthetic:
        event = CaseEvent.objects.get(case=case)
        assert (event.what, event.version, event.object_uuid, event.actor_id) == (
            service_event.what,
            service_event.version,
            case.uuid,
            case.created_by_id,
        )
        assert case.version == service_case.version == 1


def test_the_events_of_a_synthetic_batch_are_dispatched_once_each_after_commit(
    investigator: User, outsider: User, django_capture_on_commit_callbacks: Any
) -> None:
    dispatched: list[int] = []
    previous = outbox.set_dispatcher(dispatched.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = demo.seed_synthetic(count=9, seed=4, batch_size=4, progress=False)
            assert dispatched == []
    finally:
        outbox.set_dispatcher(previous)

    events = CaseEvent.objects.filter(case__reference__in=result.references)
    assert sorted(dispatched) == sorted(events.values_list("pk", flat=True))
    assert len(dispatched) == 9


def test_a_batch_dispatch_that_fails_leaves_the_other_events_dispatched(
    investigator: User, django_capture_on_commit_callbacks: Any
) -> None:
    dispatched: list[int] = []

    def flaky(event_id: int) -> None:
        if not dispatched:
            dispatched.append(-event_id)
            raise ConnectionError("the broker is down")
        dispatched.append(event_id)

    previous = outbox.set_dispatcher(flaky)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            demo.seed_synthetic(count=3, seed=4, progress=False)
    finally:
        outbox.set_dispatcher(previous)

    assert len(dispatched) == 3
    assert dispatched[0] < 0 < min(dispatched[1:])


def test_recording_cases_created_in_bulk_refuses_cases_that_have_events(
    investigator: User, case: Case
) -> None:
    with pytest.raises(ValueError, match="new cases only"):
        outbox.cases_created_in_bulk(cases=[case], actors=[investigator])

    assert CaseEvent.objects.filter(case=case).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_recording_cases_created_in_bulk_outside_a_transaction_is_refused() -> None:
    fresh = Case(pk=10**9, uuid=uuid.uuid4())

    with pytest.raises(TransactionManagementError):
        outbox.cases_created_in_bulk(cases=[fresh], actors=[None])

    assert not CaseEvent.objects.exists()


def test_with_a_batch_dispatcher_a_synthetic_batch_is_queued_in_batches_not_one_by_one(
    investigator: User, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    single: list[int] = []
    batches: list[list[int]] = []
    monkeypatch.setattr(outbox, "DISPATCH_BATCH", 4)
    previous = outbox.set_dispatcher(single.append, batch=batches.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = demo.seed_synthetic(count=9, seed=4, batch_size=9, progress=False)
    finally:
        outbox.set_dispatcher(previous)

    events = CaseEvent.objects.filter(case__reference__in=result.references)
    assert single == []
    assert [len(batch) for batch in batches] == [4, 4, 1]
    assert sorted(sum(batches, [])) == sorted(events.values_list("pk", flat=True))


def test_the_batch_task_delivers_each_event_of_the_batch(
    investigator: User, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[int] = []
    outbox.subscribe("test-batch", lambda event: seen.append(event.pk))
    previous = outbox.set_dispatcher(None)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = demo.seed_synthetic(count=3, seed=4, progress=False)
        ids = list(
            CaseEvent.objects.filter(case__reference__in=result.references).values_list(
                "pk", flat=True
            )
        )
        assert tasks.events_deliver_batch_task(ids) == 3
        assert tasks.events_deliver_batch_task(ids) == 0  # each subscriber has an event once
    finally:
        outbox.unsubscribe("test-batch")
        outbox.set_dispatcher(previous)
    assert sorted(seen) == sorted(ids)
