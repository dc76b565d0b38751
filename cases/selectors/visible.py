"""Cross-case readers: the entities, relationships, movements and matches a user may see
across many cases, for every channel that reads more than one case (search, graph, API).

Each reader costs a constant number of queries whatever the number of cases (one per model
read, after the two the user object caches: its agency groups and its roles), and masks every
row as the case page masks it, with the same functions (``cases.protection``): a protected
identity (a victim, witness or informant, or what one holds) is pseudonymised unless the
user's agency holds ``view_protected`` on THAT row's case and the user's role allows it.
Whether a row's case is seen unmasked is computed in the same query as the row (an
``Exists()`` over the live grants), never by a per-row check.

A reader returns nothing to a user whose role does not allow viewing cases, as
``get_case_access`` refuses them every case. Readers do not write the access log: the
channel that calls them logs its own read (a search, a graph, an export) once.

``values()``-style shortcuts are not offered on purpose: every instance returned has been
masked, and a raw column of a protected row would not be.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.db.models.expressions import BaseExpression

from casebook.auth import VIEW_CASE, VIEW_PROTECTED, role_permissions
from cases import protection
from cases.models import Case, CommonKey, Entity, MatchKey, Movement, Relationship
from cases.permissions import CaseAccess
from cases.rules import key_kind
from cases.selectors.grants import visible_to

M = TypeVar("M", Entity, Relationship, Movement)

# The annotation that says whether the user sees the row's case unmasked.
SEES = "viewer_sees_protected"

# The cross-case order of entities: by nothing a masked viewer may not see (kind and id), the
# same for every viewer.
ENTITY_ORDER = ("kind", "id")


def _may_read(user: User) -> bool:
    """Whether the user's role allows reading case data at all (``ACTIONS["view"]``)."""
    return VIEW_CASE in role_permissions(user)


def _sees_protected(user: User, case_ref: str) -> BaseExpression:
    """True for rows whose case (``case_ref``) the user may see the protected identities of:
    the agency's live ``view_protected`` grant and the role's permission, as ``case_permissions``
    decides it for one case."""
    if VIEW_PROTECTED not in role_permissions(user):
        return Value(False, output_field=BooleanField())
    return visible_to(user, case_ref=case_ref, codename="view_protected")


def _visible(
    queryset: QuerySet[M],
    user: User,
    case_ids: Collection[int] | None,
    case_ref: str = "case",
    accesses: Mapping[int, CaseAccess] | None = None,
) -> QuerySet[M]:
    """``queryset`` limited to rows of cases the user may view (and to ``case_ids``), each
    annotated with ``SEES``. With ``accesses`` (the user's ``CaseAccess`` by case id, built
    by a selector in this request), visibility and ``SEES`` are taken from them instead of
    being tested row by row in SQL: a page that has its case's access already (the case
    page) reads as fast as before, with the same rows and masking."""
    if accesses is not None:
        return _known(queryset, user, case_ids, case_ref, accesses)
    queryset = queryset.filter(visible_to(user, case_ref=case_ref))
    if case_ids is not None:
        queryset = queryset.filter(**{f"{case_ref}_id__in": list(case_ids)})
    return queryset.annotate(**{SEES: _sees_protected(user, case_ref)})


def _known(
    queryset: QuerySet[M],
    user: User,
    case_ids: Collection[int] | None,
    case_ref: str,
    accesses: Mapping[int, CaseAccess],
) -> QuerySet[M]:
    wanted = None if case_ids is None else set(case_ids)
    ids = [
        pk
        for pk, access in accesses.items()
        if access.user.pk == user.pk and access.allows("view") and (wanted is None or pk in wanted)
    ]
    seeing = [pk for pk in ids if accesses[pk].sees_protected]
    return queryset.filter(**{f"{case_ref}_id__in": ids}).annotate(
        **{SEES: _in_cases(case_ref, seeing, of=ids)}
    )


def _in_cases(case_ref: str, seeing: list[int], *, of: list[int]) -> BaseExpression:
    """True for rows of the cases ``seeing`` (among ``of``): a constant where all or none."""
    if len(seeing) == len(of):
        return Value(True, output_field=BooleanField())
    if not seeing:
        return Value(False, output_field=BooleanField())
    return ExpressionWrapper(Q(**{f"{case_ref}_id__in": seeing}), output_field=BooleanField())


def _viewer_entity_order(sees: str) -> tuple[str | OrderBy, ...]:
    """The case page's order (``selectors.entity_ordering``) for each row's case: by kind
    and name where the user sees the case unmasked, by kind and id elsewhere. The name and
    number are NULL in the sort key of every row of a case seen masked, so nothing hidden
    orders anything; ``sees`` is the annotation (or path) that says it."""

    def where_seen(field: str) -> OrderBy:
        return SqlCase(When(**{sees: True}, then=F(field)), default=None).asc()

    return ("kind", where_seen("name"), where_seen("identifier"), "id")


class _SharedCases:
    """One ``Case`` instance per case among the rows read. Without ``accesses`` the rows are
    read with their case (``select_related``, one instance per row, kept once per case here);
    with them, the rows are read without it (``related``) and get the case of their access:
    no Case built per row on a page that has its cases already."""

    def __init__(self, accesses: Mapping[int, CaseAccess] | None = None) -> None:
        self._by_id: dict[int, Case] = (
            {} if accesses is None else {pk: access.case for pk, access in accesses.items()}
        )
        self.known = accesses is not None

    def related(self, *fields: str) -> tuple[str, ...]:
        """What to ``select_related`` with ``fields``: the case too, unless it is known."""
        return fields if self.known else ("case", *fields)

    def __call__(self, row: Entity | Relationship | Movement) -> Case:
        if self.known:
            return self._by_id[row.case_id]
        return self._by_id.setdefault(row.case_id, row.case)


# Filling the cache of a foreign key directly: what assigning it does, minus the checks an
# assignment makes (the same case, from the same database), at a few hundred rows a page.
_ENTITY_CASE = Entity._meta.get_field("case")
_ENTITY_HOLDER = Entity._meta.get_field("holder")


def _place(entity: Entity, case: Case) -> None:
    """Give ``entity`` (and its loaded holder: same case) ``case`` without a query."""
    _ENTITY_CASE.set_cached_value(entity, case)
    if entity.holder_id is not None and _ENTITY_HOLDER.is_cached(entity):
        holder = _ENTITY_HOLDER.get_cached_value(entity)
        if holder is not None:
            _ENTITY_CASE.set_cached_value(holder, case)


def visible_entities(
    user: User,
    *,
    case_ids: Collection[int] | None = None,
    kinds: Iterable[str] | None = None,
    viewer_order: bool = False,
    accesses: Mapping[int, CaseAccess] | None = None,
) -> list[Entity]:
    """The entities of the cases the user may view (all of them, or those of ``case_ids``),
    of ``kinds`` if given, each with ``.case`` and its holder loaded and masked where the
    user may not see that case's protected identities. One query.

    Ordered by kind and id (``ENTITY_ORDER``), whatever the viewer sees. ``viewer_order``
    orders instead by case id, then within each case as the case page does
    (``selectors.entity_ordering``): by kind and name in cases the user sees unmasked.
    """
    if not _may_read(user):
        return []
    shared = _SharedCases(accesses)
    queryset = _visible(
        Entity.objects.select_related(*shared.related("holder")), user, case_ids, accesses=accesses
    )
    if kinds is not None:
        queryset = queryset.filter(kind__in=list(kinds))
    if viewer_order:
        queryset = queryset.order_by("case_id", *_viewer_entity_order(SEES))
    else:
        queryset = queryset.order_by(*ENTITY_ORDER)
    entities = list(queryset)
    for entity in entities:
        case = shared(entity)
        _place(entity, case)
        if not getattr(entity, SEES):
            protection.mask_entity(entity, case_reference=case.reference)
    return entities


def visible_relationships(
    user: User,
    *,
    case_ids: Collection[int] | None = None,
    ends: Mapping[int, Entity] | None = None,
    accesses: Mapping[int, CaseAccess] | None = None,
) -> list[Relationship]:
    """The relationships of the cases the user may view (all, or those of ``case_ids``),
    each with ``.case`` and both ends (and their holders) loaded, masked as the case page
    masks them (``protection.mask_relationship``: ends pseudonymised, the evidence note
    blanked when an end is protected) where the user may not see that case's protected
    identities. Ordered as on the case page (date, then id). One query.

    Each relationship has its own instances of its ends, unless ``ends`` is given: the
    entities read for the same user and cases by ``visible_entities``, by id. Then the ends
    are those instances (a graph or a page holds each entity once) and are not read again,
    unless an end is missing from ``ends`` (added since): then they are read as without it
    (a second query).
    """
    if not _may_read(user):
        return []
    queryset = _visible(Relationship.objects.all(), user, case_ids, accesses=accesses).order_by(
        "started_on", "id"
    )
    shared = _SharedCases(accesses)
    if ends is not None:
        # (``select_related()`` with no field would follow every foreign key.)
        fields = shared.related()
        relationships = list(queryset.select_related(*fields) if fields else queryset)
        if all(r.source_id in ends and r.target_id in ends for r in relationships):
            for relationship in relationships:
                relationship.case = shared(relationship)
                relationship.source = ends[relationship.source_id]
                relationship.target = ends[relationship.target_id]
                if not getattr(relationship, SEES):
                    protection.mask_relationship(relationship, relationship.case)
            return relationships
    relationships = list(
        queryset.select_related(*shared.related("source__holder", "target__holder"))
    )
    for relationship in relationships:
        case = shared(relationship)
        relationship.case = case
        _place(relationship.source, case)
        _place(relationship.target, case)
        if not getattr(relationship, SEES):
            protection.mask_relationship(relationship, case)
    return relationships


def visible_movements(
    user: User,
    *,
    case_ids: Collection[int] | None = None,
    accesses: Mapping[int, CaseAccess] | None = None,
) -> list[Movement]:
    """The movements of the cases the user may view (all, or those of ``case_ids``), each
    with ``.case``, both places and the facilitators (``movement.facilitators.all()``, no
    further query) loaded, masked as the case page masks them (``protection.mask_movement``:
    places and facilitators pseudonymised, the description blanked when a place or a
    facilitator is protected) where the user may not see that case's protected identities.
    Ordered as on the case page (date, then id); facilitators in the case page's order for
    the viewer. Two queries.
    """
    if not _may_read(user):
        return []
    if accesses is None:
        facilitator_sees = _sees_protected(user, "case")
    else:
        known = [pk for pk, access in accesses.items() if access.user.pk == user.pk]
        seeing = [pk for pk in known if accesses[pk].sees_protected]
        facilitator_sees = _in_cases("case", seeing, of=known)
    shared = _SharedCases(accesses)
    facilitators = Entity.objects.select_related("holder").annotate(**{SEES: facilitator_sees})
    queryset = (
        _visible(
            Movement.objects.select_related(
                *shared.related("origin__holder", "destination__holder")
            ),
            user,
            case_ids,
            accesses=accesses,
        )
        .prefetch_related(
            Prefetch("facilitators", queryset=facilitators.order_by(*_viewer_entity_order(SEES)))
        )
        .order_by("moved_on", "id")
    )
    movements = list(queryset)
    for movement in movements:
        case = shared(movement)
        movement.case = case
        _place(movement.origin, case)
        _place(movement.destination, case)
        loaded = list(movement.facilitators.all())
        for facilitator in loaded:
            _place(facilitator, case)
        if not getattr(movement, SEES):
            # What ``protection.masked_movements`` annotates in SQL, read from the loaded rows.
            protected = any(protection.is_protected(facilitator) for facilitator in loaded)
            movement.protected_facilitators = protected  # type: ignore[attr-defined]  # see above
            for facilitator in loaded:
                protection.mask_entity(facilitator, case_reference=case.reference)
            protection.mask_movement(movement, case)
    return movements


@dataclass(frozen=True)
class MatchEdge:
    """Two entities of different cases that share a match key of kind ``key_kind`` ("phone",
    "document", "name"...), lower entity id first. Never the key's value."""

    first_entity_id: int
    second_entity_id: int
    key_kind: str


def _protected_entity(entity_ref: str) -> Exists:
    """Whether the entity named by the outer row's ``entity_ref`` is protected (its role or
    its holder's), as a subquery (cheaper to plan than joining the entity and its holder)."""
    roles = sorted(Entity.PROTECTED_ROLES)
    return Exists(
        Entity.objects.filter(
            Q(role__in=roles) | Q(holder__role__in=roles), pk=OuterRef(entity_ref)
        )
    )


def _unmasked(user: User) -> Q:
    """Match keys (rows of ``MatchKey``) whose entity the user sees unmasked: unprotected, or
    of a case whose protected identities the user may see."""
    if VIEW_PROTECTED not in role_permissions(user):
        return ~Q(_protected_entity("entity_id"))
    return ~Q(_protected_entity("entity_id")) | Q(
        visible_to(user, case_ref="case", codename="view_protected")
    )


def visible_matches(user: User, *, case_ids: Collection[int] | None = None) -> list[MatchEdge]:
    """The pairs of entities of different cases the user may view (both within ``case_ids``
    if given) that share a match key (``MatchKey`` rows, as stored now), one edge per pair and
    key kind, ordered by the two ids and the kind. One query.

    Only keys whose both ends the user sees unmasked: a protected identity's key links only
    for a user who may see it on its own case, since a link to a visible entity would tell the
    protected value. Keys made common (``CommonKey`` not restored: a switchboard, a shelter)
    link nothing, as they produce no hits. Pairs within one case are not matches.
    """
    if not _may_read(user):
        return []
    keys = (
        MatchKey.objects.filter(visible_to(user, case_ref="case"))
        .filter(_unmasked(user))
        .exclude(key__in=CommonKey.objects.filter(restored_at__isnull=True).values("key"))
    )
    if case_ids is not None:
        keys = keys.filter(case_id__in=list(case_ids))
    elsewhere = keys.filter(key=OuterRef("key")).exclude(case_id=OuterRef("case_id"))
    rows = keys.filter(Exists(elsewhere)).order_by("key", "entity_id")
    holders: dict[str, list[tuple[int, int]]] = {}
    for key, entity_id, case_id in rows.values_list("key", "entity_id", "case_id"):
        holders.setdefault(key, []).append((entity_id, case_id))
    edges: set[MatchEdge] = set()
    for key, held in holders.items():
        kind = key_kind(key)
        for index, (first, first_case) in enumerate(held):
            for second, second_case in held[index + 1 :]:
                if first_case != second_case:
                    edges.add(MatchEdge(min(first, second), max(first, second), kind))
    return sorted(edges, key=lambda e: (e.first_entity_id, e.second_entity_id, e.key_kind))
