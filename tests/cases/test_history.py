"""A case's timeline and its change history: who changed what, from what to what, and when."""

import datetime
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casebook.models import Country
from cases import services
from cases.models import Case, Entity, Relationship
from cases.selectors import case_access, history
from tests.conftest import client_for
from tests.factories import make_case, make_entity

pytestmark = pytest.mark.django_db


@dataclass
class Story:
    case: Case
    person: Entity
    accomplice: Entity
    phone: Entity


@pytest.fixture
def story(investigator: Any, supervisor: Any) -> Story:
    """A case with a bit of everything, changed by two people."""
    # The supervisor investigates too (services refuse contributions from a supervisor's
    # role alone): the history must name each of two people.
    supervisor.member.is_investigator = True
    supervisor.member.save(update_fields=["is_investigator"])
    case = make_case(investigator, countries=[Country.objects.get(code="PA")])
    person = make_entity(investigator, case, name="José Pérez")
    accomplice = make_entity(investigator, case, name="Juan Gómez", role=Entity.Role.RECRUITER)
    phone = make_entity(investigator, case, Entity.Kind.PHONE)
    darien = make_entity(investigator, case, Entity.Kind.LOCATION, name="Bajo Chiquito")
    meteti = make_entity(investigator, case, Entity.Kind.LOCATION, name="Metetí")

    services.entity_update(
        access=case_access(supervisor, person.case), entity=person, name="José Pérez Gómez"
    )
    services.entity_update(
        access=case_access(investigator, phone.case), entity=phone, holder=person
    )
    services.entity_update(
        access=case_access(investigator, accomplice.case),
        entity=accomplice,
        role=Entity.Role.TRANSPORTER,
    )
    services.case_update(access=case_access(investigator, case), status=Case.Status.INVESTIGATION)
    services.case_update(
        access=case_access(supervisor, case),
        status=Case.Status.PROSECUTION,
        countries=[Country.objects.get(code="CR")],
    )
    services.relationship_add(
        access=case_access(investigator, case),
        source=person,
        target=accomplice,
        kind=Relationship.Kind.PAYS,
        started_on=datetime.date(2026, 2, 15),
        ended_on=datetime.date(2026, 6, 1),
    )
    removed = services.relationship_add(
        access=case_access(investigator, case),
        source=accomplice,
        target=person,
        kind=Relationship.Kind.RECRUITS,
    )
    services.relationship_remove(access=case_access(supervisor, removed.case), relationship=removed)
    services.movement_add(
        access=case_access(investigator, case),
        origin=darien,
        destination=meteti,
        moved_on=datetime.date(2026, 3, 5),
        means="boat",
        people_count=12,
        facilitators=[accomplice],
    )
    services.note_add(
        access=case_access(investigator, case),
        body="Interview with the boat owner.",
        noted_on=datetime.date(2026, 4, 1),
    )
    witness = make_entity(investigator, case, name="Ana Ruiz", role=Entity.Role.WITNESS)
    services.entity_remove(access=case_access(supervisor, witness.case), entity=witness)
    return Story(case=case, person=person, accomplice=accomplice, phone=phone)


def history_url(case: Case, query: str = "") -> str:
    return reverse("cases:history", kwargs={"case": case.uuid}) + query


def timeline_url(case: Case, query: str = "") -> str:
    return reverse("cases:timeline", kwargs={"case": case.uuid}) + query


def lines(response: Any) -> list[str]:
    """The events of a history page as sentences: "who action type label | field: old → new"."""
    result = []
    for event in response.context["page_obj"].object_list:
        changes = "; ".join(f"{c.field}: {c.old} → {c.new}" for c in event.changes)
        result.append(
            f"{event.username or 'system'} {event.action} {event.type_label} {event.label}"
            + (f" | {changes}" if changes else "")
        )
    return result


def text(response: Any) -> str:
    """The page's text as seen on screen: tags and screen-reader-only text stripped."""
    html = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", response.content.decode())
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- history -------------------------------------------------------------------------------


def test_history_shows_who_changed_which_field_from_what_to_what(
    story: Story, investigator: Any
) -> None:
    response = client_for(investigator).get(history_url(story.case))
    assert response.status_code == 200
    events = lines(response)
    assert "sup.pa changed Person José Pérez Gómez | Name: José Pérez → José Pérez Gómez" in events
    assert "inv.pa changed Phone number +507 6123 4567 | Held by: — → José Pérez Gómez" in events
    assert "inv.pa changed Person Juan Gómez | Role in the case: Recruiter → Transporter" in events
    case_label = f"{story.case.reference} {story.case.title}"
    assert f"inv.pa changed Case {case_label} | Status: Open → Investigation" in events
    assert f"sup.pa changed Case {case_label} | Status: Investigation → Prosecution" in events
    page = text(response)
    assert "Name: José Pérez → José Pérez Gómez" in page
    assert "Investigation → Prosecution" in page


def test_history_shows_creations_and_deletions_with_the_label_they_had(
    story: Story, investigator: Any
) -> None:
    events = lines(client_for(investigator).get(history_url(story.case)))
    assert "inv.pa created Person Ana Ruiz" in events
    assert "sup.pa deleted Person Ana Ruiz" in events
    assert "inv.pa created Relationship Juan Gómez recruits José Pérez Gómez" in events
    assert "sup.pa deleted Relationship Juan Gómez recruits José Pérez Gómez" in events
    assert "inv.pa created Movement Bajo Chiquito → Metetí, 2026-03-05" in events
    assert (
        "inv.pa created Movement facilitator Juan Gómez in Bajo Chiquito → Metetí, 2026-03-05"
        in events
    )
    assert "inv.pa created Note 2026-04-01: Interview with the boat owner." in events


def test_history_shows_countries_involved_added_and_removed(
    story: Story, investigator: Any
) -> None:
    events = lines(client_for(investigator).get(history_url(story.case)))
    assert "inv.pa created Country involved Panama" in events
    assert "sup.pa created Country involved Costa Rica" in events
    assert "sup.pa deleted Country involved Panama" in events


def test_history_is_newest_first_and_names_the_user(story: Story, investigator: Any) -> None:
    response = client_for(investigator).get(history_url(story.case))
    events = response.context["page_obj"].object_list
    assert [e.when for e in events] == sorted((e.when for e in events), reverse=True)
    assert events[0].label == "Ana Ruiz" and events[0].action == "deleted"
    assert events[-1].object_type == "case" and events[-1].action == "created"
    assert investigator.get_full_name() in response.content.decode()


def test_history_without_a_user_says_system(story: Story, investigator: Any) -> None:
    person = Entity.objects.get(pk=story.person.pk)
    person.name = "Changed by a script"
    person.save()  # no actor: as a careless data fix would
    response = client_for(investigator).get(history_url(story.case, "?object=entity"))
    assert "system changed Person Changed by a script" in lines(response)[0]
    assert "system" in text(response)


def test_history_filters_by_object_and_user(story: Story, investigator: Any) -> None:
    client = client_for(investigator)
    countries = lines(client.get(history_url(story.case, "?object=country")))
    assert countries and all(" Country involved " in line for line in countries)
    by_supervisor = lines(client.get(history_url(story.case, "?user=sup.pa")))
    assert by_supervisor and all(line.startswith("sup.pa ") for line in by_supervisor)
    both = lines(client.get(history_url(story.case, "?object=relationship&user=sup.pa")))
    assert both == ["sup.pa deleted Relationship Juan Gómez recruits José Pérez Gómez"]


def test_history_ignores_an_unknown_object_filter_and_a_bad_page(
    story: Story, investigator: Any
) -> None:
    client = client_for(investigator)
    everything = lines(client.get(history_url(story.case)))
    assert lines(client.get(history_url(story.case, "?object=nonsense"))) == everything
    for page in ("zzz", "-1", "999", ""):
        response = client.get(history_url(story.case, f"?page={page}"))
        assert response.status_code == 200


def test_history_is_paginated_by_fifty(investigator: Any) -> None:
    case = make_case(investigator)
    person = make_entity(investigator, case)
    for n in range(60):
        services.entity_update(
            access=case_access(investigator, person.case), entity=person, description=f"v{n}"
        )
    client = client_for(investigator)
    first = client.get(history_url(case))
    assert len(first.context["page_obj"].object_list) == 50
    assert first.context["page_obj"].paginator.count == 62  # 60 changes, 2 creations
    second = client.get(history_url(case, "?page=2&object=entity"))
    assert len(second.context["page_obj"].object_list) == 11
    assert "page=2" in first.content.decode()


def test_history_queries_do_not_grow_with_the_number_of_changes(
    investigator: Any, supervisor: Any
) -> None:
    def build(changes: int) -> Case:
        case = make_case(investigator, countries=[Country.objects.get(code="PA")])
        person = make_entity(investigator, case)
        place = make_entity(investigator, case, Entity.Kind.LOCATION)
        other = make_entity(investigator, case, Entity.Kind.LOCATION, name="Metetí")
        services.relationship_add(
            access=case_access(investigator, case), source=person, target=place, kind="other"
        )
        services.movement_add(
            access=case_access(investigator, case),
            origin=place,
            destination=other,
            moved_on=datetime.date(2026, 3, 5),
            means="bus",
            people_count=3,
            facilitators=[person],
        )
        services.case_update(access=case_access(investigator, case), lead_officer=investigator)
        for n in range(changes):
            services.entity_update(
                access=case_access(investigator, person.case), entity=person, description=f"v{n}"
            )
        return case

    small, large = build(5), build(100)
    client = client_for(investigator)
    client.get(history_url(small))  # warm per-process caches (permission ids)
    counts = []
    for case in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(history_url(case)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Session, user, membership and navigation; the case and its grants; one per historical
    # model (8) and one for the lead officers' names.
    assert counts[1] <= 18


def test_outsider_gets_404_for_history_and_timeline(story: Story, outsider: Any) -> None:
    client = client_for(outsider)
    assert client.get(history_url(story.case)).status_code == 404
    assert client.get(timeline_url(story.case)).status_code == 404


def test_analyst_of_the_owner_agency_may_read_history_and_timeline(
    story: Story, analyst: Any
) -> None:
    client = client_for(analyst)
    assert client.get(history_url(story.case)).status_code == 200
    assert client.get(timeline_url(story.case)).status_code == 200


def test_anonymous_user_is_sent_to_log_in(story: Story, client: Any) -> None:
    response = client.get(history_url(story.case))
    assert response.status_code == 302


def test_history_pages_refuse_post(story: Story, investigator: Any) -> None:
    assert client_for(investigator).post(history_url(story.case)).status_code == 405


# --- format_value --------------------------------------------------------------------------


def test_format_value_shows_choice_labels_entity_names_and_empty_values() -> None:
    labels = history.Labels(entities={7: "José Pérez"})
    assert history.format_value(Case, "status", "investigation") == "Investigation"
    assert history.format_value(Relationship, "source_reliability", "B") == "B: mostly reliable"
    assert history.format_value(Entity, "holder", 7, labels=labels) == "José Pérez"
    assert history.format_value(Entity, "holder", None, labels=labels) == "—"
    assert history.format_value(Entity, "nationality", "VE") == "Venezuela"
    assert history.format_value(Entity, "subtype", "safe_house") == "Safe house"
    assert history.format_value(Entity, "birth_date", datetime.date(1990, 5, 2)) == "1990-05-02"


# --- timeline ------------------------------------------------------------------------------


def test_timeline_shows_events_in_date_order(story: Story, investigator: Any) -> None:
    response = client_for(investigator).get(timeline_url(story.case))
    assert response.status_code == 200
    kinds = [(item.date, item.kind) for item in response.context["items"]]
    assert kinds == sorted(kinds, key=lambda pair: pair[0])
    assert [kind for _date, kind in kinds] == [
        "relationship_start",
        "opened",
        "movement",
        "note",
        "relationship_end",
        "status",
        "status",
    ]
    page = text(response)
    positions = [
        page.index(fragment)
        for fragment in (
            "José Pérez Gómez pays Juan Gómez",
            "Case opened",
            "12 people moved from Bajo Chiquito to Metetí by boat",
            "Interview with the boat owner.",
            "Status: Open → Investigation",
            "Status: Investigation → Prosecution",
        )
    ]
    assert positions == sorted(positions)
    assert "Facilitators: Juan Gómez" in page


def test_timeline_names_who_changed_the_status(story: Story, investigator: Any) -> None:
    page = text(client_for(investigator).get(timeline_url(story.case)))
    assert f"Status: Open → Investigation by {investigator.get_full_name()}" in page


def test_timeline_can_show_newest_first(story: Story, investigator: Any) -> None:
    client = client_for(investigator)
    oldest_first = client.get(timeline_url(story.case)).context["items"]
    newest_first = client.get(timeline_url(story.case, "?order=desc")).context["items"]
    assert newest_first == list(reversed(oldest_first))
    assert client.get(timeline_url(story.case, "?order=zzz")).context["items"] == oldest_first


def test_timeline_shows_the_closing_of_a_case(investigator: Any) -> None:
    case = make_case(investigator)
    services.case_update(access=case_access(investigator, case), status=Case.Status.CLOSED)
    response = client_for(investigator).get(timeline_url(case))
    assert [item.kind for item in response.context["items"]] == ["opened", "status", "closed"]
    assert "Case closed" in text(response)


def test_timeline_queries_do_not_grow_with_the_number_of_events(investigator: Any) -> None:
    def build(n: int) -> Case:
        case = make_case(investigator)
        places = [
            make_entity(investigator, case, Entity.Kind.LOCATION, name=f"Place {i}")
            for i in range(2)
        ]
        person = make_entity(investigator, case)
        for i in range(n):
            services.movement_add(
                access=case_access(investigator, case),
                origin=places[0],
                destination=places[1],
                moved_on=datetime.date(2026, 3, 5),
                means="bus",
                people_count=i + 1,
                facilitators=[person],
            )
            services.note_add(access=case_access(investigator, case), body=f"note {i}")
            services.relationship_add(
                access=case_access(investigator, case),
                source=person,
                target=places[i % 2],
                kind="other",
                started_on=datetime.date(2026, 3, 1),
            )
            services.case_update(
                access=case_access(investigator, case),
                status=[Case.Status.INVESTIGATION, Case.Status.OPEN][i % 2],
            )
        return case

    small, large = build(1), build(30)
    client = client_for(investigator)
    client.get(timeline_url(small))  # warm per-process caches (permission ids)
    counts = []
    for case in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(timeline_url(case)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
