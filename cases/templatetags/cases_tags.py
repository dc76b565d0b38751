"""Template tags of the case pages, written for pages that show hundreds of rows.

- ``{% entity_label entity %}``: THE one place an entity is displayed. Every template shows
  an entity through it (``cases/_entity_label.html`` is a thin wrapper around it), so that how
  an entity is shown can change in one place. ``{% entity_link case entity %}``: the same,
  linked to the entity's page.
- ``{% case_status_badge case %}``, ``{% case_handling_badge case %}``: a case's status and
  handling code as badges, on every page that lists cases.
- ``{{ obj|masked }}``: whether the selectors masked ``obj`` for the viewer.
- ``{{ obj|display:"field" }}``: what ``obj.get_<field>_display`` shows, without rebuilding
  the field's translated choices on every call.
- ``{% uuid_url "cases:entity" case=case.uuid entity=entity.uuid %}``: ``{% url %}`` for
  URLs whose arguments are UUIDs, at the cost of one ``reverse()`` per page instead of one per
  row.
- ``{% entity_rows case entities kind_label %}``, ``{% relationship_rows case relationships %}``:
  the rows of the case page's two long tables, written in Python. A case of 200 entities and
  120 relationships spent most of its page's time in the template engine's per-row nodes.
"""

import datetime
import functools
import html
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django import forms, template
from django.db.models import Model
from django.forms import BoundField
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cases import protection
from cases.models import Case, Entity

register = template.Library()

# Labels of choice fields, by (model, field, language): {value: label}.
_choice_labels: dict[tuple[str, str, str | None], dict[Any, str]] = {}


def choice_label(obj: Model, field_name: str) -> Any:
    """What ``obj.get_<field_name>_display()`` returns, for fields with fixed choices.

    Django's method builds a dictionary of the field's choices, translating every label, on
    each call; this one builds it once per field and language.
    """
    value = getattr(obj, field_name)
    key = (obj._meta.label_lower, field_name, get_language())
    labels = _choice_labels.get(key)
    if labels is None:
        field = obj._meta.get_field(field_name)
        labels = {choice: str(label) for choice, label in field.flatchoices}  # type: ignore[union-attr]  # a model field
        _choice_labels[key] = labels
    return labels.get(value, value)


@register.filter
def display(obj: Model, field_name: str) -> Any:
    """``{{ entity|display:"role" }}`` shows what ``{{ entity.get_role_display }}`` shows."""
    return choice_label(obj, field_name)


@register.filter
def masked(obj: Any) -> bool:
    """``{% if evidence|masked %}``: whether the selectors masked ``obj`` for the viewer (its
    protected values are blanked: show that they are hidden, not that they are empty)."""
    return protection.is_masked(obj)


# The badge of protected identities, by language: the same on every row.
_protected_badges: dict[str | None, SafeString] = {}


def _protected_badge() -> SafeString:
    language = get_language()
    badge = _protected_badges.get(language)
    if badge is None:
        badge = format_html(
            ' <span class="badge rounded-pill text-bg-warning" title="{}">{}</span>',
            _("Victim, witness or informant: a protected identity"),
            _("protected"),
        )
        _protected_badges[language] = badge
    return badge


@register.simple_tag
def entity_label(entity: Entity) -> SafeString:
    """How an entity is shown everywhere: its label, and a badge if its identity is
    protected (victims, witnesses, informants, and what they hold). For members who may not
    see protected identities the selectors have already masked it: its label is then its
    pseudonym ("Victim 3 of PA-2026-00042")."""
    badge = _protected_badge() if protection.shown_as_protected(entity) else ""
    # What format_html('<span ...>{}{}</span>', entity.label, badge) returns, at a third of
    # its cost: this runs for every entity on every page.
    return mark_safe(  # noqa: S308 - the label is escaped; the badge is a SafeString
        f'<span class="entity-label">{html.escape(str(entity.label))}{badge}</span>'
    )


@register.simple_tag(takes_context=True)
def entity_link(context: template.Context, case: Case, entity: Entity) -> SafeString:
    """``entity_label`` linked to the entity's page, for the rows of a case page."""
    url = _uuid_url(context, "cases:entity", {"case": case.uuid, "entity": entity.uuid})
    # format_html('<a href="{}">{}</a>', url, entity_label(entity)), cheaper: a page of a
    # large case links hundreds of entities.
    return mark_safe(f'<a href="{html.escape(url)}">{entity_label(entity)}</a>')  # noqa: S308


# Bootstrap's colour of each case status; archived (and anything unknown) is dark.
STATUS_BADGE_CLASSES: dict[str, str] = {
    Case.Status.OPEN: "text-bg-primary",
    Case.Status.INVESTIGATION: "text-bg-info",
    Case.Status.PROSECUTION: "text-bg-success",
    Case.Status.CLOSED: "text-bg-secondary",
}


@register.simple_tag
def case_status_badge(case: Case) -> SafeString:
    """A case's status as a badge (``cases/_case_status_badge.html`` renders this)."""
    css = STATUS_BADGE_CLASSES.get(case.status, "text-bg-dark")
    return format_html('<span class="badge {}">{}</span>', css, choice_label(case, "status"))


# The title of the handling code badge, by language.
_handling_titles: dict[str | None, str] = {}


@register.simple_tag
def case_handling_badge(case: Case) -> SafeString:
    """A case's TLP 2.0 handling code as a badge (``cases/_case_handling_badge.html``
    renders this; casebook.css colours ``handling-<code>``)."""
    language = get_language()
    title = _handling_titles.get(language)
    if title is None:
        title = _handling_titles[language] = _("Handling code (Traffic Light Protocol 2.0)")
    return format_html(
        '<span class="badge handling-{}" title="{}">{}</span>',
        case.handling_code,
        title,
        choice_label(case, "handling_code"),
    )


@register.simple_tag
def field_widget(field: BoundField) -> SafeString:
    """``{{ field }}``, with a ``Select`` written in one pass: the HTML of Django's select
    templates (django/forms/widgets/select.html, select_option.html, attrs.html) without
    rendering a template per option and per attribute list, which costs milliseconds on a
    list page's filters. Any other widget is rendered by Django."""
    widget = field.field.widget
    if type(widget) is not forms.Select:
        return field.as_widget()
    # What BoundField.as_widget() passes to Widget.render().
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    groups = []
    for group_name, options, _index in context["optgroups"]:
        rendered = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((option["value"], _attrs(option["attrs"]), option["label"]) for option in options),
        )
        if group_name:
            rendered = format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered)
        groups.append(rendered)
    # Each group was escaped by format_html: joined, they are safe.
    options = mark_safe("".join(groups))  # noqa: S308
    return format_html(
        '<select name="{}"{}>{}</select>', context["name"], _attrs(context["attrs"]), options
    )


def _attrs(attrs: dict[str, Any]) -> SafeString:
    """django/forms/widgets/attrs.html: `` name="value"`` for each attribute, the bare name
    for True, nothing for False."""
    return format_html_join(
        "",
        " {}{}",
        (
            (name, "" if value is True else format_html('="{}"', value))
            for name, value in attrs.items()
            if value is not False
        ),
    )


@register.simple_tag(takes_context=True)
def uuid_url(context: template.Context, viewname: str, **kwargs: Any) -> str:
    """``{% url viewname name=uuid ... %}`` for URLs whose arguments are all UUIDs, at the
    cost of one ``reverse()`` per page render and URL name (see ``_uuid_url``)."""
    return _uuid_url(context, viewname, kwargs)


# Where the reversed URLs live in a render context.
_URL_TEMPLATES = "cases_tags.uuid_url"


@functools.cache
def _placeholder(n: int) -> str:
    """The n-th UUID argument of a URL is reversed as this, then replaced. A version 0 UUID:
    ``uuid4()`` never makes one, so it is never a real id."""
    return str(UUID(int=n + 1))


def _uuid_url(context: template.Context, viewname: str, uuids: dict[str, Any]) -> str:
    """Reverses ``viewname`` once per page render with placeholder UUIDs (cached in the
    render context, as ``{% include %}`` caches its templates), then writes the given UUIDs
    in their place: Django's UUID converter writes a UUID as ``str(uuid)``. Raises
    ``ValueError`` for a value that is not a UUID, as ``{% url %}`` would raise
    ``NoReverseMatch``."""
    names = tuple(sorted(uuids))
    render_cache: dict[Any, Any] = context.render_context.dicts[0]
    cache: dict[tuple[str, tuple[str, ...]], str] = render_cache.setdefault(_URL_TEMPLATES, {})
    url = cache.get((viewname, names))
    if url is None:
        placeholders = {name: _placeholder(n) for n, name in enumerate(names)}
        url = cache[(viewname, names)] = reverse(viewname, kwargs=placeholders)
    for n, name in enumerate(names):
        value = uuids[name]
        url = url.replace(
            _placeholder(n), str(value if isinstance(value, UUID) else UUID(str(value)))
        )
    return url


@functools.lru_cache(maxsize=4096)
def _local_date(value: datetime.date, language: str | None) -> str:
    """``{{ value }}`` of a date in ``language`` (which ``date_format`` reads from the active
    language; it is part of the key). Dates repeat across a case's rows; formatting one costs
    more than the rest of its row."""
    return formats.date_format(value)


def _text(value: Any) -> str:
    """``{{ value }}``: escaped text, dates formatted for the active language."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        value = _local_date(value, get_language())
    return html.escape(str(value))


@register.simple_tag(takes_context=True)
def entity_rows(
    context: template.Context, case: Case, entities: Iterable[Entity], kind_label: str
) -> SafeString:
    """The ``<tr>`` rows of one kind's table of entities on the case page: the entity (linked),
    its role, its key identifier (or birth date), its kind."""
    born = html.escape(_("born"))
    kind = html.escape(str(kind_label))
    none = '<span class="text-body-secondary">—</span>'
    rows = []
    for entity in entities:
        if entity.identifier:
            key = f'<span class="font-monospace">{_text(entity.identifier)}</span>'
            if entity.identifier_country:
                key += f" ({_text(entity.identifier_country)})"
        elif entity.birth_date:
            key = f"{born} {_text(entity.birth_date)}"
        else:
            key = none
        rows.append(
            f"<tr><td>{entity_link(context, case, entity)}</td>"
            f"<td>{_text(choice_label(entity, 'role'))}</td><td>{key}</td><td>{kind}</td></tr>"
        )
    # Every value above is escaped, and entity_link returns safe HTML.
    return mark_safe("\n".join(rows))  # noqa: S308


@register.simple_tag(takes_context=True)
def relationship_rows(
    context: template.Context, case: Case, relationships: Iterable[Any]
) -> SafeString:
    """The ``<tr>`` rows of the case page's relationships: source, kind, target, dates and the
    4x4 grading (its meaning in the badge's title)."""
    arrow = '<span aria-hidden="true">→</span>'
    rows = []
    for relationship in relationships:
        started, ended = relationship.started_on, relationship.ended_on
        if started or ended:
            dates = f"{_text(started or '…')} – {_text(ended or '…')}"
        else:
            dates = '<span class="text-body-secondary">—</span>'
        title = (
            f"{_text(choice_label(relationship, 'source_reliability'))}; "
            f"{_text(choice_label(relationship, 'information_assessment'))}"
        )
        rows.append(
            f"<tr><td>{entity_link(context, case, relationship.source)}</td>"
            f"<td>{arrow} {_text(choice_label(relationship, 'kind'))} {arrow}</td>"
            f"<td>{entity_link(context, case, relationship.target)}</td>"
            f'<td class="text-nowrap">{dates}</td>'
            f'<td><span class="badge text-bg-light border font-monospace" title="{title}">'
            f"{_text(relationship.grading)}</span></td></tr>"
        )
    # Every value above is escaped, and entity_link returns safe HTML.
    return mark_safe("\n".join(rows))  # noqa: S308
