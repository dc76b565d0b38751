"""A case's timeline and its full change history, built for display.

The caller has already fetched the case through ``selectors.get_case_access`` (so the
permission check has happened) and hands in what the selectors give. The only queries made
here are on the case's own historical tables, always filtered by the case (``case_id``, or the
case's own ``id`` for ``Case``, or the case's movement ids for movement facilitators): one
query per historical model, plus at most one for labels (lead officers' names), whatever the
number of history rows.

Every old/new value shown in the change history goes through ``format_value`` and every entity
named in it through ``entity_label``: that is where protected identities are masked. For a
member who may not see them (``not access.sees_protected``), an entity that is or
ever was protected (by its role or its holder's, in any of its historical records) is named by
its pseudonym everywhere in the history, and its identifying values, old and new, are hidden;
so are the evidence notes of relationships and the descriptions of movements that involve one,
and the names, descriptions, content types, sizes and hashes of protected evidence files.
The hidden values are ``protection.PROTECTED_FIELDS``: for entities the quasi-identifiers
(nationality, type, issuing country) and the holder link too. This is worked out
from the historical records already read: no extra query.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casebook.models import Agency, Country
from cases import protection
from cases.countries import country_name
from cases.models import (
    Case,
    CaseCountry,
    Entity,
    Evidence,
    Movement,
    MovementFacilitator,
    Note,
    Relationship,
)
from cases.permissions import CaseAccess

EMPTY = "—"

# The object types of the history filter (``?object=``), in display order.
OBJECT_TYPES: dict[str, tuple[type[models.Model], Any]] = {
    "case": (Case, gettext_lazy("Case")),
    "country": (CaseCountry, gettext_lazy("Country involved")),
    "entity": (Entity, gettext_lazy("Entity")),
    "relationship": (Relationship, gettext_lazy("Relationship")),
    "movement": (Movement, gettext_lazy("Movement")),
    "facilitator": (MovementFacilitator, gettext_lazy("Movement facilitator")),
    "note": (Note, gettext_lazy("Note")),
    "evidence": (Evidence, gettext_lazy("Evidence file")),
}

ACTIONS = {
    "+": ("created", gettext_lazy("created")),
    "~": ("changed", gettext_lazy("changed")),
    "-": ("deleted", gettext_lazy("deleted")),
}

# Never listed as changed: identity and bookkeeping that every save touches or that never
# changes, and the storage path of evidence (it names no one and means nothing to a reader).
HIDDEN_FIELDS = frozenset(
    {
        "id",
        "uuid",
        "case",
        "created_at",
        "updated_at",
        "created_by",
        "file",
        "uploaded_at",
        # Bookkeeping of pseudonyms: the pseudonym itself is the entity's label.
        "protected_number",
    }
)

# ``Entity.subtype`` has no choices of its own: its codes depend on the kind. Locations use
# ``LocationKind``; other codes (document types, platforms...) are shown as they are stored.
SUBTYPE_LABELS: dict[str, Any] = dict(Entity.LocationKind.choices)

MEANS_PHRASES: dict[str, Any] = {
    Movement.Means.FOOT: gettext_lazy("on foot"),
    Movement.Means.BOAT: gettext_lazy("by boat"),
    Movement.Means.BUS: gettext_lazy("by bus"),
    Movement.Means.CAR: gettext_lazy("by car"),
    Movement.Means.TRUCK: gettext_lazy("by truck"),
    Movement.Means.TRAIN: gettext_lazy("by train"),
    Movement.Means.PLANE: gettext_lazy("by plane"),
    Movement.Means.OTHER: gettext_lazy("by other means"),
}


def user_label(user: User | None) -> str:
    """Who did something: the full name, else the username; "system" for no user."""
    if user is None:
        return _("system")
    return str(user.get_full_name() or user.get_username())


# --- timeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    """One dated event of a case. ``kind`` tells the template what ``obj`` is:
    ``opened``/``closed`` (the case), ``status`` (``old``/``new``/``user`` set, ``at`` the
    time of the change), ``movement``, ``relationship_start``/``relationship_end``, ``note``.
    """

    date: datetime.date
    kind: str
    obj: Any = None
    at: datetime.datetime | None = None
    old: str = ""
    new: str = ""
    user: str = ""
    means: str = ""


# Same-day order: the opening first, the closing last.
_RANK = {"opened": 0, "status": 1, "closed": 3}


def status_changes(case: Case) -> list[TimelineItem]:
    """The case's status changes from its history, oldest first (one query)."""
    records = (
        Case.history.model.objects.filter(id=case.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    labels = dict(Case.Status.choices)
    items = []
    previous: str | None = None
    for record in records:
        if previous is not None and record.status != previous:
            items.append(
                TimelineItem(
                    date=timezone.localdate(record.history_date),
                    kind="status",
                    at=record.history_date,
                    old=str(labels.get(previous, previous)),
                    new=str(labels.get(record.status, record.status)),
                    user=user_label(record.history_user),
                )
            )
        previous = record.status
    return items


def timeline_items(
    case: Case,
    *,
    movements: Iterable[Movement],
    relationships: Iterable[Relationship],
    notes: Iterable[Note],
    newest_first: bool = False,
) -> list[TimelineItem]:
    """The case's dated events in date order (oldest first unless ``newest_first``).

    ``movements`` (with origin, destination and facilitators loaded), ``relationships`` (with
    source and target) and ``notes`` (with author) come from the selectors; status changes
    are read from the case's history.
    """
    items = [TimelineItem(date=case.opened_on, kind="opened", obj=case)]
    if case.closed_on:
        items.append(TimelineItem(date=case.closed_on, kind="closed", obj=case))
    items.extend(status_changes(case))
    for movement in movements:
        items.append(
            TimelineItem(
                date=movement.moved_on,
                kind="movement",
                obj=movement,
                means=str(MEANS_PHRASES.get(movement.means, movement.get_means_display())),
            )
        )
    for relationship in relationships:
        if relationship.started_on:
            items.append(
                TimelineItem(
                    date=relationship.started_on, kind="relationship_start", obj=relationship
                )
            )
        if relationship.ended_on:
            items.append(
                TimelineItem(date=relationship.ended_on, kind="relationship_end", obj=relationship)
            )
    for note in notes:
        items.append(TimelineItem(date=note.noted_on, kind="note", obj=note))

    def key(item: TimelineItem) -> tuple[datetime.date, int, float]:
        return (item.date, _RANK.get(item.kind, 2), item.at.timestamp() if item.at else 0.0)

    # sorted() is stable: same-day events without a time keep the order they came in.
    return sorted(items, key=key, reverse=newest_first)


# --- change history ------------------------------------------------------------------------


@dataclass
class Labels:
    """Display texts for the ids that historical rows hold, gathered without per-row queries."""

    entities: dict[int, str] = field(default_factory=dict)
    movements: dict[int, str] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)
    agencies: dict[int, str] = field(default_factory=dict)
    # Ids of the objects, per model, whose protected values the viewer may not see (empty
    # for a viewer who may see protected identities), and the pseudonyms of evidence files.
    hidden: dict[type[models.Model], set[int]] = field(default_factory=dict)
    evidence: dict[int, str] = field(default_factory=dict)

    def is_hidden(self, model: type[models.Model], object_id: int) -> bool:
        return object_id in self.hidden.get(model, ())


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEvent:
    when: datetime.datetime
    user: User | None
    user_label: str
    username: str
    object_type: str
    type_label: str
    label: str
    action: str
    action_label: str
    changes: tuple[FieldChange, ...] = ()
    # For entity events: the entity as it was, to be shown through the entity partial.
    entity: Entity | None = None
    order: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class CaseHistory:
    events: list[HistoryEvent]
    # (username, label) of everyone who changed something, for the filter.
    users: list[tuple[str, str]]


def entity_label(record: Any, *, labels: Labels | None = None) -> str:
    """The display text of an entity from one of its historical records (or the entity):
    its pseudonym (from ``labels``) if the viewer may not see it."""
    if labels is not None and labels.is_hidden(Entity, record.id):
        return labels.entities.get(record.id) or _("protected entity")
    instance = record.instance if hasattr(record, "instance") else record
    return str(instance.label)


def format_value(
    model: type[models.Model],
    field_name: str,
    value: Any,
    *,
    labels: Labels | None = None,
    protected: bool = False,
) -> str:
    """How an old or new value of ``model.field_name`` is shown in the change history.

    ``value`` is what a historical record holds: the id for a foreign key. Choice codes become
    their labels; entities, users and agencies their names from ``labels`` (pseudonyms for
    protected entities the viewer may not see), countries their names in the active language.
    ``protected``: the value belongs to an object whose protected values the viewer may not
    see; an identifying field (``protection.PROTECTED_FIELDS``) is then hidden.
    """
    labels = labels or Labels()
    # Hidden even when empty: that a victim's birth date was blanked, or set, is not shown.
    if protected and field_name in protection.PROTECTED_FIELDS.get(model, ()):
        return protection.HIDDEN_VALUE
    if value is None or value == "":
        return EMPTY
    model_field = model._meta.get_field(field_name)
    if model_field.is_relation:
        target = model_field.related_model
        if target is Entity:
            return labels.entities.get(value) or _("unknown entity")
        if target is Movement:
            return labels.movements.get(value) or _("unknown movement")
        if target is Country:
            return country_name(value)
        if target is Agency:
            return labels.agencies.get(value) or _("unknown agency")
        if target is get_user_model():
            return labels.users.get(value) or _("unknown user")
        return str(value)
    choices = getattr(model_field, "flatchoices", None)
    if choices:
        return str(dict(choices).get(value, value))
    if model is Entity and field_name == "subtype":
        return str(SUBTYPE_LABELS.get(value, value))
    if model is Entity and field_name in ("nationality", "identifier_country"):
        return country_name(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _historical_records(model: type[models.Model], case: Case) -> list[Any]:
    historical = model.history.model  # type: ignore[attr-defined]  # simple-history's manager
    if model is Case:
        rows = historical.objects.filter(id=case.pk)
    elif model is MovementFacilitator:
        # Facilitator links have no case column: take those of every movement the case has
        # ever had, deleted ones included, in the same query.
        movement_ids = Movement.history.model.objects.filter(case_id=case.pk).values("id")
        rows = historical.objects.filter(movement_id__in=movement_ids)
    else:
        rows = historical.objects.filter(case_id=case.pk)
    return list(rows.select_related("history_user").order_by("history_date", "history_id"))


def _diff_fields(model: type[models.Model]) -> list["models.Field[Any, Any]"]:
    # Only what the history keeps: bookkeeping such as ``Case.version`` is left out of it.
    kept = {f.name for f in model.history.model._meta.concrete_fields}  # type: ignore[attr-defined]  # simple-history's manager
    return [
        f for f in model._meta.concrete_fields if f.name not in HIDDEN_FIELDS and f.name in kept
    ]


def _hide_protected(case: Case, records: dict[str, list[Any]], labels: Labels) -> None:
    """Fill ``labels.hidden`` and the pseudonyms with what was ever protected, for a viewer who
    may not see protected identities (as ``protection.pseudonym`` names them). Records are
    oldest first, so the last one per id wins."""
    protected_roles = Entity.PROTECTED_ROLES
    # The latest record with a protected role gives the number: "Victim 3 of ...".
    by_role: dict[int, Any] = {r.id: r for r in records["entity"] if r.role in protected_roles}
    # The latest record held by a protected holder names what it holds after the holder.
    held: dict[int, Any] = {r.id: r for r in records["entity"] if r.holder_id in by_role}
    latest: dict[int, Any] = {r.id: r for r in records["entity"]}
    for entity_id, record in by_role.items():
        labels.entities[entity_id] = protection.role_pseudonym(
            record.role, record.protected_number, case.reference
        )
    for entity_id, record in held.items():
        if entity_id in by_role and latest[entity_id].holder_id not in by_role:
            continue  # named after its own role now
        labels.entities[entity_id] = protection.held_pseudonym(
            record.kind, labels.entities[record.holder_id]
        )
    entities = set(by_role) | set(held)
    movements = {
        r.id for r in records["movement"] if {r.origin_id, r.destination_id} & entities
    } | {r.movement_id for r in records["facilitator"] if r.entity_id in entities}
    evidence = sorted({r.id for r in records["evidence"] if r.protected})
    labels.hidden = {
        Entity: entities,
        Relationship: {
            r.id for r in records["relationship"] if {r.source_id, r.target_id} & entities
        },
        Movement: movements,
        Evidence: set(evidence),
    }
    labels.evidence = {
        evidence_id: protection.evidence_pseudonym(rank)
        for rank, evidence_id in enumerate(evidence, start=1)
    }


def _labels(access: CaseAccess, records: dict[str, list[Any]]) -> Labels:
    case = access.case
    labels = Labels(agencies={case.owner_agency_id: str(case.owner_agency.name)})
    if not access.sees_protected:
        _hide_protected(case, records, labels)
    # Records are oldest first: the last one per id is the latest (or deleted) state.
    for record in records["entity"]:
        labels.entities[record.id] = entity_label(record, labels=labels)
    for record in records["movement"]:
        labels.movements[record.id] = _movement_label(record, labels)
    user_ids = {r.lead_officer_id for r in records["case"] if r.lead_officer_id}
    if user_ids:
        users = get_user_model().objects.filter(pk__in=user_ids)
        labels.users = {user.pk: user_label(user) for user in users}
    return labels


def _movement_label(record: Any, labels: Labels) -> str:
    return "{origin} → {destination}, {date}".format(
        origin=format_value(Movement, "origin", record.origin_id, labels=labels),
        destination=format_value(Movement, "destination", record.destination_id, labels=labels),
        date=format_value(Movement, "moved_on", record.moved_on, labels=labels),
    )


def _object_label(object_type: str, record: Any, labels: Labels) -> tuple[str, str]:
    """(type, label) of the object a historical record is about, as of that record."""
    if object_type == "case":
        return _("Case"), f"{record.reference} {record.title}"
    if object_type == "country":
        return _("Country involved"), format_value(
            CaseCountry, "country", record.country_id, labels=labels
        )
    if object_type == "entity":
        kinds = dict(Entity.Kind.choices)
        return str(kinds.get(record.kind, record.kind)), entity_label(record, labels=labels)
    if object_type == "relationship":
        return _("Relationship"), "{source} {kind} {target}".format(
            source=format_value(Relationship, "source", record.source_id, labels=labels),
            kind=format_value(Relationship, "kind", record.kind),
            target=format_value(Relationship, "target", record.target_id, labels=labels),
        )
    if object_type == "movement":
        return _("Movement"), _movement_label(record, labels)
    if object_type == "facilitator":
        return _("Movement facilitator"), _("%(entity)s in %(movement)s") % {
            "entity": format_value(MovementFacilitator, "entity", record.entity_id, labels=labels),
            "movement": format_value(
                MovementFacilitator, "movement", record.movement_id, labels=labels
            ),
        }
    if object_type == "note":
        body = Truncator(" ".join(record.body.split())).chars(60)
        return _("Note"), f"{record.noted_on.isoformat()}: {body}"
    return _("Evidence file"), labels.evidence.get(record.id) or str(record.original_name)


def _changes(
    model: type[models.Model], previous: Any, record: Any, labels: Labels
) -> tuple[FieldChange, ...]:
    changes = []
    protected = labels.is_hidden(model, record.id)
    for model_field in _diff_fields(model):
        old = getattr(previous, model_field.attname)
        new = getattr(record, model_field.attname)
        if old == new or (old in (None, "") and new in (None, "")):
            continue
        changes.append(
            FieldChange(
                field=capfirst(str(model_field.verbose_name)),
                old=format_value(model, model_field.name, old, labels=labels, protected=protected),
                new=format_value(model, model_field.name, new, labels=labels, protected=protected),
            )
        )
    return tuple(changes)


def _events(
    object_type: str, model: type[models.Model], records: list[Any], labels: Labels
) -> list[HistoryEvent]:
    """The events of one model: records are compared pairwise per object id, in the order
    they were written (history_date, history_id)."""
    events = []
    type_order = list(OBJECT_TYPES).index(object_type)
    previous_by_id: dict[Any, Any] = {}
    for record in records:
        previous = previous_by_id.get(record.id)
        previous_by_id[record.id] = record
        action, action_label = ACTIONS.get(record.history_type, ("changed", ACTIONS["~"][1]))
        changes: tuple[FieldChange, ...] = ()
        if action == "changed" and previous is not None:
            changes = _changes(model, previous, record, labels)
            if not changes:
                # A save that changed nothing shown (e.g. the case saved along with its
                # countries, whose own records say what changed): nothing to tell.
                continue
        type_label, label = _object_label(object_type, record, labels)
        user = record.history_user
        events.append(
            HistoryEvent(
                when=record.history_date,
                user=user,
                user_label=user_label(user),
                username=user.get_username() if user is not None else "",
                object_type=object_type,
                type_label=type_label,
                label=label,
                action=action,
                action_label=str(action_label),
                changes=changes,
                entity=_event_entity(record, labels) if object_type == "entity" else None,
                order=(type_order, record.history_id),
            )
        )
    return events


def _event_entity(record: Any, labels: Labels) -> Entity:
    """The entity as it was, masked (named by its pseudonym) if the viewer may not see it."""
    instance: Entity = record.instance
    if labels.is_hidden(Entity, record.id):
        protection.blank_entity(instance, label=labels.entities.get(record.id, ""))
    return instance


def history_events(access: CaseAccess, *, object_type: str = "", username: str = "") -> CaseHistory:
    """Every change to the case of ``access`` and to every object under it, newest first,
    masked for its member.

    ``object_type`` (a key of ``OBJECT_TYPES``) and ``username`` narrow the events; an
    unknown ``object_type`` is ignored. One query per historical model plus at most one.
    """
    case = access.case
    records = {key: _historical_records(model, case) for key, (model, _l) in OBJECT_TYPES.items()}
    labels = _labels(access, records)
    events: list[HistoryEvent] = []
    for key, (model, _label) in OBJECT_TYPES.items():
        events.extend(_events(key, model, records[key], labels))
    events.sort(key=lambda event: (event.when, event.order), reverse=True)
    users = sorted(
        {(event.username, event.user_label) for event in events if event.username},
        key=lambda pair: pair[1].lower(),
    )
    if object_type in OBJECT_TYPES:
        events = [event for event in events if event.object_type == object_type]
    if username:
        events = [event for event in events if event.username == username]
    return CaseHistory(events=events, users=users)
