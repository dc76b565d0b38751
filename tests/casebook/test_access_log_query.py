"""The supervisors' access-log query (``casebook.selectors.access_log_for_supervisor``): read in
two parts, "about our cases" and "by our members", it must give exactly what one plain filter
over the whole log gives, for every combination of filters, page by page."""

import datetime
import itertools
import random
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casebook import selectors
from casebook.models import AccessLog, Agency
from cases.models import Case, CaseGroupObjectPermission
from cases.selectors import permission_id, visible_case_ids
from tests.conftest import client_for
from tests.factories import AgencyFactory, make_case, make_member

Filters = selectors.AccessLogFilters
START = datetime.datetime(2026, 5, 10, 6, tzinfo=datetime.UTC)
DAY_1 = datetime.date(2026, 5, 11)
DAY_2 = datetime.date(2026, 5, 12)


@dataclass
class World:
    supervisor: Any
    own_case: Case
    other_own_case: Case
    shared_case: Case  # another agency's, shared with the supervisor's agency
    hidden_case: Case  # another agency's, not shared


@pytest.fixture
def world(investigator: Any, supervisor: Any, analyst: Any, outsider: Any) -> World:
    """Sixty entries by members of three agencies about four cases (and about none), with
    three actions over four days, several sharing a timestamp."""
    gt_police = AgencyFactory.create(name="Policía Nacional Civil")
    stranger = make_member(gt_police, "investigator", username="inv.gt")
    built = World(
        supervisor=supervisor,
        own_case=make_case(investigator, title="Darién crossing"),
        other_own_case=make_case(investigator, title="Recruitment ring in Colón"),
        shared_case=make_case(outsider, title="Trata en Limón"),
        hidden_case=make_case(outsider, title="Tráfico en Peñas Blancas"),
    )
    CaseGroupObjectPermission.objects.create(
        content_object=built.shared_case,
        group=investigator.member.agency.group,
        permission_id=permission_id("view_case"),
    )
    cases = [
        built.own_case,
        built.other_own_case,
        built.shared_case,
        built.hidden_case,
        None,
    ]
    readers = [investigator, analyst, outsider, stranger]
    rng = random.Random(7)
    for _ in range(60):
        reader = rng.choice(readers)
        case = rng.choice(cases)
        AccessLog.objects.create(
            at=START + datetime.timedelta(hours=rng.randrange(0, 96, 3)),
            user=reader,
            username=reader.username,
            agency_id=reader.member.agency_id,
            case=case,
            case_reference=case.reference if case else "",
            action=rng.choice(["view", "view", "download", "refused"]),
            object_type="case" if case else "search",
        )
    return built


def reference(supervisor: Any, filters: Filters) -> list[tuple[int, bool]]:
    """What the supervisor should read, by a plain Python filter over the whole log: each
    entry's id and whether its case is visible to the supervisor, newest first."""
    agency_id = supervisor.member.agency_id
    own = set(Case.objects.filter(owner_agency_id=agency_id).values_list("pk", flat=True))
    visible = set(visible_case_ids(supervisor).values_list("content_object_id", flat=True))
    references = dict(Case.objects.values_list("pk", "reference"))
    usernames = dict(get_user_model().objects.values_list("pk", "username"))
    kept = []
    for entry in AccessLog.objects.all():
        day = timezone.localtime(entry.at).date()
        if entry.case_id not in own and entry.agency_id != agency_id:
            continue
        if filters.username and (
            entry.user_id is None
            or filters.username.lower() not in usernames[entry.user_id].lower()
        ):
            continue
        if filters.case_reference and (
            entry.case_id is None
            or entry.case_id not in visible
            or references[entry.case_id].lower() != filters.case_reference.lower()
        ):
            continue
        if filters.action and entry.action != filters.action:
            continue
        if (filters.date_from and day < filters.date_from) or (
            filters.date_to and day > filters.date_to
        ):
            continue
        kept.append(entry)
    kept.sort(key=lambda entry: (entry.at, entry.pk), reverse=True)
    return [(entry.pk, entry.case_id in visible) for entry in kept]


def read(results: selectors.AccessLogResults, start: int, stop: int) -> list[tuple[int, bool]]:
    return [(entry.pk, entry.case_visible) for entry in results[start:stop]]  # type: ignore[attr-defined]


def every_filter_combination(world: World) -> list[Filters]:
    own, shared, hidden = world.own_case, world.shared_case, world.hidden_case
    return [
        Filters(username, case_reference, action, date_from, date_to)
        for username, case_reference, action, (date_from, date_to) in itertools.product(
            ["", "inv", ".PA", "nobody"],
            ["", own.reference, shared.reference.lower(), hidden.reference, "XX-2026-99999"],
            ["", "view", "refused"],
            [(None, None), (DAY_1, None), (None, DAY_2), (DAY_1, DAY_1)],
        )
    ]


def test_the_generated_log_has_entries_of_every_kind(world: World) -> None:
    agency_id = world.supervisor.member.agency_id
    own = {world.own_case.pk, world.other_own_case.pk}
    kinds = {
        (entry.case_id in own, entry.agency_id == agency_id) for entry in AccessLog.objects.all()
    }
    # About our cases only, by our members only, both, and neither.
    assert kinds == {(True, False), (False, True), (True, True), (False, False)}
    assert len(reference(world.supervisor, Filters())) > 20


@pytest.mark.parametrize("limit", [None, 0], ids=["ids-read-first", "subqueries"])
def test_every_filter_combination_gives_what_a_plain_filter_gives(
    world: World, limit: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if limit is not None:
        # No id list is short enough: users and own cases are matched by subqueries.
        monkeypatch.setattr(selectors, "USER_ID_LIMIT", limit)
        monkeypatch.setattr(selectors, "OWN_CASE_LIMIT", limit)
    non_empty = 0
    for filters in every_filter_combination(world):
        expected = reference(world.supervisor, filters)
        results = selectors.access_log_for_supervisor(world.supervisor, filters=filters)

        assert read(results, 0, 100) == expected, filters
        assert results.count() == len(expected), filters
        non_empty += bool(expected)
    # The combinations are not vacuous: most of them select something.
    assert non_empty > 60


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(username="inv"), Filters(action="view", date_from=DAY_1)],
    ids=["no filter", "user", "action and date"],
)
def test_pages_of_any_size_cut_the_same_list(world: World, filters: Filters) -> None:
    expected = reference(world.supervisor, filters)
    results = selectors.access_log_for_supervisor(world.supervisor, filters=filters)

    for size in (1, 4, 7):
        pages = [read(results, start, start + size) for start in range(0, len(expected), size)]
        assert list(itertools.chain(*pages)) == expected
    assert read(results, len(expected), len(expected) + 10) == []
    assert [(entry.pk, entry.case_visible) for entry in results[5:]] == expected[5:]  # type: ignore[attr-defined]
    assert (results[3].pk, results[3].case_visible) == expected[3]  # type: ignore[attr-defined]
    with pytest.raises(IndexError):
        results[len(expected)]
    assert [(entry.pk, entry.case_visible) for entry in results] == expected  # type: ignore[attr-defined]


def test_an_entry_in_both_parts_is_listed_and_counted_once(
    investigator: Any, supervisor: Any, case: Case
) -> None:
    # Our member reading our case: about our case, and by our member.
    entry = AccessLog.objects.create(
        user=investigator,
        username=investigator.username,
        agency_id=investigator.member.agency_id,
        case=case,
        case_reference=case.reference,
        action="view",
        object_type="case",
    )

    results = selectors.access_log_for_supervisor(supervisor)

    assert [row.pk for row in results[0:50]] == [entry.pk]
    assert results.count() == len(results) == 1
    assert [row.pk for row in results.iterator()] == [entry.pk]


def test_a_quiet_agency_reads_only_its_own_entries(
    world: World, outsider: Any, cr_police: Agency
) -> None:
    quiet = AgencyFactory.create(name="Inspección del Trabajo")
    quiet_supervisor = make_member(quiet, "supervisor", username="sup.quiet")
    quiet_member = make_member(quiet, "investigator", username="inv.quiet")
    quiet_case = make_case(quiet_member, title="Forced labour on a farm")
    about = AccessLog.objects.create(
        user=outsider,
        username=outsider.username,
        agency_id=cr_police.pk,
        case=quiet_case,
        case_reference=quiet_case.reference,
        action="refused",
        object_type="case",
    )
    by = AccessLog.objects.create(
        user=quiet_member,
        username=quiet_member.username,
        agency_id=quiet.pk,
        case=world.hidden_case,
        case_reference=world.hidden_case.reference,
        action="refused",
        object_type="case",
    )

    results = selectors.access_log_for_supervisor(quiet_supervisor)

    # Newest first; the case of the foreign entry is not the quiet agency's to see.
    assert read(results, 0, 50) == [(by.pk, False), (about.pk, True)]


def test_a_filter_that_names_no_user_or_no_visible_case_reads_no_entries(world: World) -> None:
    for filters in [
        Filters(username="nobody"),
        Filters(case_reference=world.hidden_case.reference),
    ]:
        with CaptureQueriesContext(connection) as captured:
            results = selectors.access_log_for_supervisor(world.supervisor, filters=filters)
            assert results[0:51] == []
            assert results.count() == 0

        assert not [q for q in captured.captured_queries if "casebook_accesslog" in q["sql"]]


@pytest.mark.parametrize(
    ("query", "most"),
    # Each count includes the INSERT of the page's own entry in the log.
    [
        ({}, 9),
        ({"user": "inv", "case": "", "action": "view", "date_from": "2026-05-11"}, 10),
        ({"user": "inv", "case": "PA-2026-00001", "date_to": "2026-05-12"}, 11),
    ],
    ids=["no filter", "user, action and date", "user, case and date"],
)
def test_the_page_query_count_is_fixed_whatever_the_filters_and_entries(
    world: World,
    investigator: Any,
    query: dict[str, str],
    most: int,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(world.supervisor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("access_log"), query)
        assert response.status_code == 200
        return len(captured)

    before = queries()
    for _ in range(60):
        AccessLog.objects.create(
            at=START + datetime.timedelta(days=1, hours=1),
            user=investigator,
            username=investigator.username,
            agency_id=investigator.member.agency_id,
            case=world.own_case,
            case_reference=world.own_case.reference,
            action="view",
            object_type="case",
        )
    assert queries() == before
    with django_assert_max_num_queries(most):
        page = client.get(reverse("access_log"), query).context["page"]
    assert page.has_next  # the sixty new entries match every one of these filters
