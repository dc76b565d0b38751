"""Hit/no-hit is not a guessing oracle (issue 7, section 3): an entity carries a bounded number
of keys, detection runs within hourly budgets per member and per agency (refusals logged,
volumes notified, deferred detection run later), a protected identity of another agency is
never a hit for the one that entered the value, copies in one agency do not make a value
common, a common key can be restored, and who triggered each hit is recorded."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from casebook.models import AccessLog, Agency, Country, Notification
from cases import rules, services
from cases.models import Case, CommonKey, Entity, Hit, HitDetection, MatchKey
from cases.selectors import case_access
from tests.conftest import client_for
from tests.factories import AgencyFactory, make_case, make_entity, make_member

PHONE = "+507 6123 4567"


def hit_work(callbacks: list[Any]) -> list[Any]:
    """The on-commit callbacks that hit detection queued (not the change event's)."""
    return [callback for callback in callbacks if callback.__module__ == "cases.services.hits"]


def detect(*entities: Entity, by: Any = None) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        for entity in entities:
            services.hits_detect(entity_id=entity.pk, triggered_by_id=getattr(by, "pk", None))


def aliases(count: int) -> str:
    return "\n".join(f"Guess Number {chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(count))


def phone(n: int) -> str:
    return f"+507 6123 {n:04d}"


def allow_protected_matches(agency: Agency) -> None:
    agency.protected_match_policy = Agency.ProtectedMatchPolicy.OWNER_DECIDES
    agency.save()


def page(user: Any, name: str) -> str:
    response = client_for(user).get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


# --- keys per entity -------------------------------------------------------------------------


def test_an_entity_with_301_aliases_is_refused_next_to_the_aliases_and_nothing_is_stored(
    investigator: Any, case: Case
) -> None:
    url = reverse("cases:entity_add", kwargs={"case": case.uuid, "kind": "person"})
    data = {"role": "suspect", "name": "Probe Person", "aliases": aliases(301)}
    response = client_for(investigator).post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "At most 20 names and aliases per person" in errors["aliases"][0]
    assert not Entity.objects.filter(case=case).exists()
    assert not MatchKey.objects.exists()


def test_the_21st_key_is_refused_by_the_service_on_add_and_on_edit(
    investigator: Any, case: Case
) -> None:
    with pytest.raises(ValidationError) as refused:
        make_entity(investigator, case, name="Probe Person", aliases=aliases(20))
    assert "aliases" in refused.value.message_dict
    assert not Entity.objects.exists()
    person = make_entity(investigator, case, name="Probe Person", aliases=aliases(19))
    assert MatchKey.objects.filter(entity=person).count() == 20
    with pytest.raises(ValidationError):
        services.entity_update(
            access=case_access(investigator, person.case), entity=person, aliases=aliases(20)
        )
    assert MatchKey.objects.filter(entity=person).count() == 20


# --- detection budgets -----------------------------------------------------------------------


def test_detection_over_the_member_budget_is_deferred_logged_and_notified(
    settings: Any,
    investigator: Any,
    outsider: Any,
    pa_police: Agency,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR = 3
    theirs = make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=phone(4))
    case = make_case(investigator)
    for n in range(1, 4):
        make_entity(investigator, case, Entity.Kind.PHONE, identifier=phone(n))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fourth = make_entity(investigator, case, Entity.Kind.PHONE, identifier=phone(4))
    assert Entity.objects.filter(pk=fourth.pk).exists()  # the write succeeded
    assert hit_work(callbacks) == []  # no detection queued
    assert not Hit.objects.exists()
    (refusal,) = AccessLog.objects.filter(action=AccessLog.Action.REFUSED, attempted="detect")
    assert (refusal.user, refusal.case_id) == (investigator, case.pk)
    assert "member budget" in refusal.detail
    (note,) = Notification.objects.filter(kind=Notification.Kind.HIT_VOLUME)
    assert note.agency == pa_police
    assert investigator.get_username() in note.message
    assert HitDetection.objects.get(entity=fourth).state == HitDetection.State.DEFERRED

    # Not lost: the sweep runs it once the hour has passed.
    assert services.detections_release() == 0
    HitDetection.objects.update(counted_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.detections_release() == 1
    (hit,) = Hit.objects.all()
    assert {hit.entity_id, hit.other_id} == {fourth.pk, theirs.pk}
    assert hit.triggered_by == investigator
    assert HitDetection.objects.get(entity=fourth).state == HitDetection.State.RELEASED


def test_detection_over_the_agency_budget_is_deferred_for_any_member(
    settings: Any, investigator: Any, analyst: Any, pa_police: Agency
) -> None:
    settings.CASEBOOK_HIT_DETECT_AGENCY_PER_HOUR = 3
    colleague = make_member(pa_police, "investigator", username="inv2.pa")
    case = make_case(investigator)
    make_entity(investigator, case, Entity.Kind.PHONE, identifier=phone(1))
    make_entity(investigator, case, Entity.Kind.PHONE, identifier=phone(2))
    make_entity(colleague, case, Entity.Kind.PHONE, identifier=phone(3))
    fourth = make_entity(colleague, case, Entity.Kind.PHONE, identifier=phone(4))
    assert HitDetection.objects.get(entity=fourth).state == HitDetection.State.DEFERRED
    refusal = AccessLog.objects.get(action=AccessLog.Action.REFUSED, attempted="detect")
    assert refusal.user == colleague
    assert "agency budget" in refusal.detail
    (note,) = Notification.objects.filter(agency=pa_police, kind=Notification.Kind.HIT_VOLUME)
    assert "your agency" in note.message
    make_entity(investigator, case, Entity.Kind.PHONE, identifier=phone(5))
    # One notice an hour, however many refusals.
    assert Notification.objects.filter(kind=Notification.Kind.HIT_VOLUME).count() == 1


def test_an_edit_without_new_keys_does_not_release_a_deferred_detection(
    settings: Any, investigator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR = 1
    case = make_case(investigator)
    make_entity(investigator, case, Entity.Kind.PHONE, identifier=phone(1))
    deferred = make_entity(investigator, case, Entity.Kind.PHONE, identifier=phone(2))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.entity_update(
            access=case_access(investigator, deferred.case), entity=deferred, description="edited"
        )
    assert hit_work(callbacks) == []
    assert HitDetection.objects.get(entity=deferred).state == HitDetection.State.DEFERRED


def test_supervisors_see_deferred_matching_on_the_common_keys_page(
    settings: Any, investigator: Any, supervisor: Any, outsider: Any
) -> None:
    settings.CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR = 1
    case = make_case(investigator)
    make_entity(investigator, case, Entity.Kind.PHONE, identifier=phone(1))
    make_entity(investigator, case, Entity.Kind.PHONE, identifier=phone(2))
    html = page(supervisor, "cases:common_keys")
    assert "Deferred matching" in html
    assert investigator.get_username() in html
    assert investigator.get_username() not in page(outsider, "cases:common_keys")


# --- protected identities ---------------------------------------------------------------------


@pytest.fixture
def cr_victim_phone(outsider: Any) -> Entity:
    """Costa Rica's victim holds a phone; Panama then enters the same number."""
    cr_case = make_case(outsider)
    victim = make_entity(outsider, cr_case, name="Menor Protegida", role="victim")
    return make_entity(outsider, cr_case, Entity.Kind.PHONE, identifier=PHONE, holder=victim)


def test_a_value_of_another_agencys_protected_person_gives_the_enterer_no_hit(
    cr_victim_phone: Entity, investigator: Any, pa_police: Agency, cr_police: Agency
) -> None:
    probe = make_entity(investigator, make_case(investigator), Entity.Kind.PHONE)
    detect(probe, cr_victim_phone)
    assert not Hit.objects.exists()
    assert not Notification.objects.filter(kind__startswith="hit").exists()
    assert cr_police.name not in page(investigator, "cases:hits")


def test_with_the_owners_policy_the_hit_goes_to_the_owner_only(
    cr_victim_phone: Entity, investigator: Any, outsider: Any, pa_police: Agency, cr_police: Agency
) -> None:
    allow_protected_matches(cr_police)
    probe = make_entity(investigator, make_case(investigator), Entity.Kind.PHONE)
    detect(probe)
    assert Hit.objects.count() == 1
    (note,) = Notification.objects.filter(kind__startswith="hit")
    assert (note.agency, note.kind, note.protected_only) == (
        cr_police,
        Notification.Kind.HIT_PROTECTED,
        True,
    )
    assert pa_police.name in page(outsider, "cases:hits")
    for name in ("cases:hits", "dashboard"):
        assert cr_police.name not in page(investigator, name)
    entity_url = reverse("cases:entity", kwargs={"case": probe.case.uuid, "entity": probe.uuid})
    assert cr_police.name not in client_for(investigator).get(entity_url).content.decode()


def test_a_holder_who_becomes_a_victim_hides_the_hit_from_the_other_agency_at_once(
    investigator: Any, outsider: Any, cr_police: Agency
) -> None:
    cr_case = make_case(outsider)
    person = make_entity(outsider, cr_case, name="Testigo Futuro", role="suspect")
    theirs = make_entity(outsider, cr_case, Entity.Kind.PHONE, identifier=PHONE, holder=person)
    detect(make_entity(investigator, make_case(investigator), Entity.Kind.PHONE), theirs)
    assert cr_police.name in page(investigator, "cases:hits")
    services.entity_update(access=case_access(outsider, person.case), entity=person, role="witness")
    assert cr_police.name not in page(investigator, "cases:hits")


# --- common keys -----------------------------------------------------------------------------


def test_copies_in_one_agency_do_not_make_a_key_common_nor_erase_others_hits(
    investigator: Any, outsider: Any
) -> None:
    guatemala = AgencyFactory.create(country=Country.objects.get(code="GT"))
    gt_user = make_member(guatemala, "investigator")
    mine = make_entity(investigator, make_case(investigator), Entity.Kind.PHONE)
    theirs = make_entity(gt_user, make_case(gt_user), Entity.Kind.PHONE, identifier=PHONE)
    detect(mine)
    assert Hit.objects.count() == 1
    for _copy in range(rules.hit_key_limit() + 1):
        copy = make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE)
    detect(copy, mine, theirs)
    assert not CommonKey.objects.exists()
    low, high = sorted([mine.pk, theirs.pk])
    assert Hit.objects.filter(entity_id=low, other_id=high).exists()


def test_a_protected_identitys_value_does_not_count_towards_making_it_common(
    settings: Any, cr_victim_phone: Entity, investigator: Any
) -> None:
    settings.CASEBOOK_HIT_KEY_LIMIT = 2
    guatemala = AgencyFactory.create(country=Country.objects.get(code="GT"))
    gt_user = make_member(guatemala, "investigator")
    make_entity(gt_user, make_case(gt_user), Entity.Kind.PHONE, identifier=PHONE)
    detect(make_entity(investigator, make_case(investigator), Entity.Kind.PHONE))
    assert not CommonKey.objects.exists()  # Panama and Guatemala: one agency too few
    assert Hit.objects.count() == 1  # between them; none with Costa Rica's victim


@pytest.fixture
def common_phone(settings: Any, investigator: Any, outsider: Any) -> dict[str, Any]:
    """A phone held in the cases of limit + 1 = 3 agencies: common, no hits."""
    settings.CASEBOOK_HIT_KEY_LIMIT = 2
    guatemala = AgencyFactory.create(country=Country.objects.get(code="GT"))
    gt_user = make_member(guatemala, "investigator", "supervisor")
    holders = [
        make_entity(investigator, make_case(investigator), Entity.Kind.PHONE),
        make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE),
        make_entity(gt_user, make_case(gt_user), Entity.Kind.PHONE, identifier=PHONE),
    ]
    detect(*holders)
    assert CommonKey.objects.filter(key="phone:+50761234567").exists()
    assert not Hit.objects.exists()
    return {"holders": holders, "gt_user": gt_user}


def test_common_keys_page_counts_only_the_own_agencys_holders(
    common_phone: dict, supervisor: Any, investigator: Any
) -> None:
    make_entity(investigator, make_case(investigator), Entity.Kind.PHONE)
    html = page(supervisor, "cases:common_keys")
    assert "+50761234567" in html
    assert "2 entities" in html  # Panama's own two
    assert "more than" not in html.split("<tbody>")[1]  # nothing about how many others hold it
    assert "3 entities" not in html and "4 entities" not in html


def test_restoring_a_common_key_detects_its_hits_again_and_keeps_it_restored(
    common_phone: dict, supervisor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    common = CommonKey.objects.get()
    url = reverse("cases:common_key_restore", kwargs={"key": common.uuid})
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(supervisor).post(url).status_code == 302
    common.refresh_from_db()
    assert (common.restored_by, common.restored_at is not None) == (supervisor, True)
    assert Hit.objects.count() == 3
    assert set(Hit.objects.values_list("triggered_by", flat=True)) == {supervisor.pk}
    detect(*common_phone["holders"])
    assert Hit.objects.count() == 3  # detection does not make it common again
    mark = reverse("cases:common_key_mark", kwargs={"key": common.uuid})
    assert client_for(supervisor).post(mark).status_code == 302
    assert not Hit.objects.exists()  # confirmed common again: its hits go


def test_restore_is_post_only_and_404_for_a_supervisor_whose_agency_does_not_hold_it(
    common_phone: dict,
) -> None:
    mexico = AgencyFactory.create(country=Country.objects.get(code="MX"))
    stranger = make_member(mexico, "supervisor")
    url = reverse("cases:common_key_restore", kwargs={"key": CommonKey.objects.get().uuid})
    assert client_for(stranger).post(url).status_code == 404
    assert client_for(common_phone["gt_user"]).get(url).status_code == 405
    assert CommonKey.objects.get().restored_at is None


# --- who triggered a hit, and reads of the hits pages -------------------------------------------


def test_the_hit_records_who_triggered_it_shown_to_that_agencys_supervisors_only(
    investigator: Any, supervisor: Any, outsider: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE)
    case = make_case(investigator)
    url = reverse("cases:entity_add", kwargs={"case": case.uuid, "kind": "phone"})
    data = {"role": "suspect", "identifier": "6123-4567", "identifier_country": "PA"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(investigator).post(url, data).status_code == 302
    (hit,) = Hit.objects.all()
    assert hit.triggered_by == investigator
    found_by = f"found by {investigator.get_username()}"
    assert found_by in page(supervisor, "cases:hits")
    assert found_by not in page(investigator, "cases:hits")  # not a supervisor
    assert investigator.get_username() not in page(outsider, "cases:hits")  # other agency


def test_reading_the_hits_and_common_keys_pages_is_in_the_access_log(
    investigator: Any, supervisor: Any
) -> None:
    page(investigator, "cases:hits")
    page(supervisor, "cases:common_keys")
    rows = AccessLog.objects.filter(action=AccessLog.Action.VIEW).values_list(
        "user", "object_type", "detail"
    )
    assert (investigator.pk, "hit_list", "cases:hits page 1, 0 shown") in rows
    assert (supervisor.pk, "common_key_list", "cases:common_keys page 1, 0 shown") in rows
