"""The template tags of the case pages (cases/templatetags/cases_tags.py)."""

import datetime
import uuid
from typing import Any
from unittest import mock

import pytest
from django import forms
from django.contrib.admin.models import ADDITION, LogEntry
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.urls import reverse
from django.utils import translation

from cases import protection, selectors, services
from cases.forms.case import CaseFilterForm
from cases.models import Case, Entity, Movement, Relationship
from cases.selectors import case_access
from cases.templatetags import cases_tags
from tests.factories import make_entity


def render(source: str, **context: Any) -> str:
    return Template("{% load cases_tags %}" + source).render(Context(context))


# --- entity_label / entity_link -------------------------------------------------------------


def test_entity_label_shows_the_label_escaped(investigator: Any, case: Case) -> None:
    entity = make_entity(investigator, case, name="<b>Jorge</b> & co")
    html = render("{% entity_label entity %}", entity=entity)
    assert html == '<span class="entity-label">&lt;b&gt;Jorge&lt;/b&gt; &amp; co</span>'


@pytest.mark.parametrize("role", sorted(Entity.PROTECTED_ROLES))
def test_entity_label_marks_protected_identities(investigator: Any, case: Case, role: str) -> None:
    entity = make_entity(investigator, case, name="María", role=role)
    html = render("{% entity_label entity %}", entity=entity)
    assert html.startswith('<span class="entity-label">María <span class="badge')
    assert ">protected</span></span>" in html
    assert 'title="Victim, witness or informant: a protected identity"' in html


def test_entity_label_of_an_unprotected_entity_has_no_badge(investigator: Any, case: Case) -> None:
    entity = make_entity(investigator, case, name="Jorge", role=Entity.Role.RECRUITER)
    assert "badge" not in render("{% entity_label entity %}", entity=entity)


def test_masked_says_whether_the_selectors_masked_an_object(investigator: Any, case: Case) -> None:
    victim = make_entity(investigator, case, name="María", role=Entity.Role.VICTIM)
    suspect = make_entity(investigator, case, name="Jorge")
    protection.mask_entity(victim, case_reference=case.reference)

    source = "{% if entity|masked %}masked{% else %}shown{% endif %}"
    assert [render(source, entity=e) for e in (victim, suspect)] == ["masked", "shown"]


def test_entity_label_partial_renders_the_tag(investigator: Any, case: Case) -> None:
    for role in (Entity.Role.SUSPECT, Entity.Role.VICTIM):
        entity = make_entity(investigator, case, name="Ana", role=role)
        partial = render_to_string("cases/_entity_label.html", {"entity": entity})
        assert partial == render("{% entity_label entity %}", entity=entity)


def test_entity_link_is_the_label_linked_to_the_entity_page(investigator: Any, case: Case) -> None:
    entity = make_entity(investigator, case, name="Ana", role=Entity.Role.VICTIM)
    url = reverse("cases:entity", kwargs={"case": case.uuid, "entity": entity.uuid})
    label = render("{% entity_label entity %}", entity=entity)
    html = render("{% entity_link case entity %}", case=case, entity=entity)
    assert html == f'<a href="{url}">{label}</a>'


# --- display --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (Entity, "kind"),
        (Entity, "role"),
        (Case, "status"),
        (Case, "kind"),
        (Case, "handling_code"),
        (Relationship, "kind"),
        (Relationship, "source_reliability"),
        (Relationship, "information_assessment"),
        (Movement, "means"),
    ],
)
def test_display_shows_what_get_display_shows_for_every_choice(model: Any, field: str) -> None:
    for value, _label in model._meta.get_field(field).flatchoices:
        obj = model(**{field: value})
        expected = str(getattr(obj, f"get_{field}_display")())
        assert render("{{ obj|display:field }}", obj=obj, field=field) == expected


def test_display_of_a_value_outside_the_choices_shows_the_value() -> None:
    assert render('{{ entity|display:"role" }}', entity=Entity(role="retired")) == "retired"
    assert cases_tags.choice_label(Entity(role=""), "role") == ""


def test_display_follows_the_active_language() -> None:
    entry = LogEntry(action_flag=ADDITION)
    with translation.override("en"):
        english = render('{{ entry|display:"action_flag" }}', entry=entry)
        assert english == str(entry.get_action_flag_display())
    with translation.override("es"):
        spanish = render('{{ entry|display:"action_flag" }}', entry=entry)
        assert spanish == str(entry.get_action_flag_display())
    assert spanish != english


# --- uuid_url -------------------------------------------------------------------------------


def test_uuid_url_builds_what_reverse_builds() -> None:
    case_uuid, entity_uuid = uuid.uuid4(), uuid.uuid4()
    html = render(
        "{% uuid_url 'cases:detail' case=c %} {% uuid_url 'cases:entity' entity=e case=c %}",
        c=case_uuid,
        e=entity_uuid,
    )
    assert html == " ".join(
        [
            reverse("cases:detail", kwargs={"case": case_uuid}),
            reverse("cases:entity", kwargs={"case": case_uuid, "entity": entity_uuid}),
        ]
    )


def test_uuid_url_accepts_uuids_as_text() -> None:
    case_uuid = uuid.uuid4()
    html = render("{% uuid_url 'cases:detail' case=c %}", c=str(case_uuid))
    assert html == reverse("cases:detail", kwargs={"case": case_uuid})


def test_uuid_url_refuses_what_is_not_a_uuid() -> None:
    with pytest.raises(ValueError):
        render("{% uuid_url 'cases:detail' case=c %}", c="../../admin")


def test_uuid_url_reverses_once_per_render_and_url_name() -> None:
    rows = [(uuid.uuid4(), uuid.uuid4()) for _n in range(50)]
    source = (
        "{% for c, e in rows %}{% uuid_url 'cases:entity' case=c entity=e %}"
        "{% uuid_url 'cases:detail' case=c %}{% endfor %}"
    )
    with mock.patch.object(cases_tags, "reverse", wraps=reverse) as spy:
        html = render(source, rows=rows)
        assert spy.call_count == 2
        render(source, rows=rows)
        assert spy.call_count == 4
    expected = "".join(
        reverse("cases:entity", kwargs={"case": c, "entity": e})
        + reverse("cases:detail", kwargs={"case": c})
        for c, e in rows
    )
    assert html == expected


# --- case badges ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "css"),
    [
        (Case.Status.OPEN, "text-bg-primary"),
        (Case.Status.INVESTIGATION, "text-bg-info"),
        (Case.Status.PROSECUTION, "text-bg-success"),
        (Case.Status.CLOSED, "text-bg-secondary"),
        (Case.Status.ARCHIVED, "text-bg-dark"),
    ],
)
def test_case_status_badge_has_the_colour_and_label_of_the_status(status: str, css: str) -> None:
    case = Case(status=status)
    html = render("{% case_status_badge case %}", case=case)
    assert html == f'<span class="badge {css}">{case.get_status_display()}</span>'
    assert render_to_string("cases/_case_status_badge.html", {"case": case}).strip() == html


@pytest.mark.parametrize("code", Case.HandlingCode.values)
def test_case_handling_badge_shows_the_tlp_code(code: str) -> None:
    case = Case(handling_code=code)
    html = render("{% case_handling_badge case %}", case=case)
    assert html == (
        f'<span class="badge handling-{code}" title="Handling code (Traffic Light Protocol 2.0)">'
        f"{case.get_handling_code_display()}</span>"
    )
    assert render_to_string("cases/_case_handling_badge.html", {"case": case}).strip() == html


# --- field_widget ---------------------------------------------------------------------------


class _GroupedForm(forms.Form):
    place = forms.ChoiceField(
        choices=[("", "Anywhere"), ("Panamá", [("PA-DA", "Darién & <Colón>")]), ("x", "X")],
        widget=forms.Select(attrs={"data-flag": True, "hidden": False}),
    )
    note = forms.CharField(required=False)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"status": "open", "kind": "smuggling", "country": "PA", "order": "title"},
        {"status": "evil", "kind": "<script>", "country": "ZZ", "order": "evil", "q": "x"},
    ],
)
def test_field_widget_writes_the_html_of_django_select_templates(db: Any, data: Any) -> None:
    form = CaseFilterForm(data)
    form.filters()
    for field in form.visible_fields():
        assert_html_equal(render("{% field_widget field %}", field=field), str(field))


def test_field_widget_handles_option_groups_and_boolean_attributes() -> None:
    for data in ({}, {"place": "PA-DA"}, {"place": "nowhere"}):
        form = _GroupedForm(data)
        form.is_valid()
        for field in form.visible_fields():
            html = render("{% field_widget field %}", field=field)
            assert_html_equal(html, str(field))
    assert "Darién &amp; &lt;Colón&gt;" in render("{% field_widget f %}", f=form["place"])


def assert_html_equal(actual: str, expected: str) -> None:
    assert parse_html(actual) == parse_html(expected), f"{actual}\n!=\n{expected}"


# --- entity_rows / relationship_rows -------------------------------------------------------

# The rows as the case page's templates wrote them before the tags: the tags must write the same.
ENTITY_ROW_TEMPLATE = """{% load i18n cases_tags %}{% translate "born" as born %}
{% for entity in entities %}<tr>
<td>{% entity_link case entity %}</td>
<td>{{ entity|display:"role" }}</td>
<td>{% if entity.identifier %}<span class="font-monospace">{{ entity.identifier }}</span>{% if entity.identifier_country %} ({{ entity.identifier_country }}){% endif %}{% elif entity.birth_date %}{{ born }} {{ entity.birth_date }}{% else %}<span class="text-body-secondary">—</span>{% endif %}</td>
<td>{{ kind_label }}</td>
</tr>{% endfor %}"""  # noqa: E501

RELATIONSHIP_ROW_TEMPLATE = """{% load i18n cases_tags %}{% for relationship in relationships %}<tr>
<td>{% entity_link case relationship.source %}</td>
<td><span aria-hidden="true">→</span> {{ relationship|display:"kind" }} <span aria-hidden="true">→</span></td>
<td>{% entity_link case relationship.target %}</td>
<td class="text-nowrap">{% if relationship.started_on or relationship.ended_on %}{{ relationship.started_on|default:"…" }} – {{ relationship.ended_on|default:"…" }}{% else %}<span class="text-body-secondary">—</span>{% endif %}</td>
<td><span class="badge text-bg-light border font-monospace" title="{{ relationship|display:'source_reliability' }}; {{ relationship|display:'information_assessment' }}">{{ relationship.grading }}</span></td>
</tr>{% endfor %}"""  # noqa: E501


def _row_entities(investigator: Any, case: Case) -> list[Entity]:
    return [
        make_entity(
            investigator, case, name="<i>Jorge</i> & co", birth_date=datetime.date(1980, 2, 29)
        ),
        make_entity(investigator, case, name="Ana", role=Entity.Role.VICTIM),
        make_entity(investigator, case, Entity.Kind.PHONE),
        make_entity(
            investigator, case, Entity.Kind.VEHICLE, identifier="AB-12", identifier_country="CR"
        ),
        make_entity(
            investigator, case, Entity.Kind.ONLINE, identifier="<b>@coyote</b>", subtype="other"
        ),
        make_entity(investigator, case, Entity.Kind.ORGANISATION, name="Transportes Darién"),
    ]


@pytest.mark.parametrize("language", ["en", "es"])
def test_entity_rows_write_what_the_row_template_wrote(
    investigator: Any, case: Case, language: str
) -> None:
    entities = _row_entities(investigator, case)
    context = {"case": case, "entities": entities, "kind_label": "People & <things>"}
    with translation.override(language):
        expected = Template(ENTITY_ROW_TEMPLATE).render(Context(context))
        written = render("{% entity_rows case entities kind_label %}", **context)
    assert parse_html(written) == parse_html(expected)
    assert "&lt;i&gt;Jorge&lt;/i&gt; &amp; co" in written
    assert "@coyote" in written and "<b>@coyote" not in written
    assert "People &amp; &lt;things&gt;" in written


@pytest.mark.parametrize("language", ["en", "es"])
def test_relationship_rows_write_what_the_row_template_wrote(
    investigator: Any, case: Case, language: str
) -> None:
    a, b, c, *_ = _row_entities(investigator, case)
    variants: list[tuple[str, dict[str, Any]]] = [
        (Relationship.Kind.RECRUITS, {}),
        (Relationship.Kind.PAYS, {"started_on": datetime.date(2025, 12, 31)}),
        (Relationship.Kind.OWNS, {"ended_on": datetime.date(2026, 1, 2)}),
        (
            Relationship.Kind.COMMUNICATES,
            {"started_on": datetime.date(2024, 3, 1), "ended_on": datetime.date(2024, 5, 9)},
        ),
    ]
    relationships = [
        services.relationship_add(
            access=case_access(investigator, case), source=a, target=b, kind=kind, **dates
        )
        for kind, dates in variants
    ]
    relationships.append(
        services.relationship_add(
            access=case_access(investigator, case),
            source=c,
            target=a,
            kind=Relationship.Kind.OWNS,
            source_reliability=Relationship.SourceReliability.A,
            information_assessment=Relationship.InformationAssessment.ONE,
        )
    )
    context = {"case": case, "relationships": relationships}
    with translation.override(language):
        expected = Template(RELATIONSHIP_ROW_TEMPLATE).render(Context(context))
        written = render("{% relationship_rows case relationships %}", **context)
    assert parse_html(written) == parse_html(expected)
    assert written.count("<tr>") == len(relationships)


def test_the_case_pages_relationships_are_masked_as_the_relationship_list_is(
    investigator: Any, analyst: Any, case: Case
) -> None:
    """A member who may not see protected identities (an analyst) gets the same relationships
    from ``case_records`` (ends taken from the entities read) as from ``relationship_list``:
    pseudonyms, no note."""
    victim = make_entity(investigator, case, name="Víctima Reservada", role=Entity.Role.VICTIM)
    phone = make_entity(investigator, case, Entity.Kind.PHONE, holder=victim)
    recruiter = make_entity(investigator, case, name="Jorge Recluta")
    for source, target in [(recruiter, victim), (recruiter, phone), (phone, recruiter)]:
        services.relationship_add(
            access=case_access(investigator, case),
            source=source,
            target=target,
            kind=Relationship.Kind.RECRUITS,
            evidence_note="Told by Víctima Reservada",
        )
    for reader, sees_protected in [(analyst, False), (investigator, True)]:
        fetched = selectors.get_case_access(reader, case.uuid)

        def shown(relationships: list[Relationship]) -> list[tuple[str, str, str]]:
            return sorted((r.source.label, r.target.label, r.evidence_note) for r in relationships)

        with_ends = selectors.case_records(fetched).relationships
        assert shown(with_ends) == shown(list(selectors.relationship_list(fetched)))
        text = repr(shown(with_ends))
        assert ("Víctima Reservada" in text) is sees_protected
        assert ("Jorge Recluta" in text) is True
