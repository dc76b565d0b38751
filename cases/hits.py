"""Hit / no-hit: cross-case matches of entities, and the keys too common to mean anything.

``hits_detect`` runs in a Celery task queued on commit by ``services.entity_add`` and
``services.entity_update`` (and by ``manage.py detect_hits``). It compares the entity's match
keys with every other case's in one indexed query and brings the stored ``Hit`` rows of the
entity in line: one row per pair of entities, whatever the number of keys they share.

What a member is told about a hit is decided when it is read (``cases.selectors.hit_list``),
from the grants of that moment: a hit between two cases the member may see is a link between
the two entities, a hit with a case they may not see says only which agency to contact.
New hits are also notified to both owner agencies (``hits_notify``, a task of its own that
detection queues on commit), in words that carry nothing of the other case.

Noise control: a key held by more than ``settings.CASEBOOK_HIT_KEY_LIMIT`` entities (a bus
company's switchboard, a shelter's address) is recorded as a ``CommonKey`` and produces no
hits from then on; the hits it produced before go too, unless the pair shares another key.
Supervisors see the common keys their agency holds and confirm them (``common_key_mark``).
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casebook.models import Notification
from cases.models import (
    CaseGroupObjectPermission,
    CommonKey,
    Entity,
    Hit,
    HitDismissal,
    MatchKey,
)
from cases.selectors import permission_id

# What matched, in words, by the prefix of the key (``cases.matchkeys.KEY_KINDS``).
KEY_KIND_LABELS = {
    "phone": _("phone number"),
    "document": _("identity document"),
    "account": _("bank account or wallet"),
    "plate": _("vehicle plate"),
    "email": _("e-mail address"),
    "handle": _("online handle"),
    "name": _("name"),
}


def key_kind(key: str) -> str:
    """The kind of a stored match key: "phone" for "phone:+50761234567"."""
    return key.partition(":")[0]


def key_kind_label(key: str) -> str:
    """What a key is, in words ("phone number"), for the member whose value it is."""
    kind = key_kind(key)
    if kind == "name" and key.startswith("name:org:"):
        return gettext("organisation name")
    return str(KEY_KIND_LABELS.get(kind, kind))


def key_value(key: str) -> str:
    """The normalised value of a stored key, without its kind: "+50761234567"."""
    value = key.partition(":")[2]
    return value.removeprefix("org:") if key.startswith("name:org:") else value


def hit_key_limit() -> int:
    return int(settings.CASEBOOK_HIT_KEY_LIMIT)


@transaction.atomic
def hits_detect(*, entity_id: int, notify: bool = True) -> list[Hit]:
    """Bring the hits of one entity in line with its current match keys; idempotent.

    Creates a hit for each entity of another case that shares a key with it (one per pair),
    moves a hit to another shared key when the one it was found on has gone, and deletes the
    hits of pairs that share no key any more (after an edit). A key held by more than
    ``CASEBOOK_HIT_KEY_LIMIT`` entities is recorded as common instead. With ``notify``, the
    new hits' notifications are queued on commit (``hits_notify``, another task: detection
    stays one indexed lookup and a few small writes).

    Returns the hits created by this run. Takes the entity's primary key, as tasks do; an
    entity that no longer exists has no hits (they went with it) and gives an empty list.
    """
    limit = hit_key_limit()
    rows_by_key: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for key, holder_id, case_id in _key_holders(entity_id, limit):
        rows_by_key[key].append((holder_id, case_id))

    new_common = sorted(key for key, rows in rows_by_key.items() if len(rows) > limit)
    own_case_id: int | None = None
    for rows in rows_by_key.values():
        for holder_id, case_id in rows:
            if holder_id == entity_id:
                own_case_id = case_id

    # other entity -> (its case, the keys the pair shares)
    matched: dict[int, tuple[int, set[str]]] = {}
    for key, rows in rows_by_key.items():
        if key in new_common:
            continue
        for other_id, case_id in rows:
            if case_id != own_case_id:
                matched.setdefault(other_id, (case_id, set()))[1].add(key)

    existing: dict[int, tuple[int, str]] = {}  # other entity -> (hit pk, hit key)
    stored = (
        Hit.objects.filter(Q(entity_id=entity_id) | Q(other_id=entity_id))
        .order_by()
        .values_list("pk", "entity_id", "other_id", "key")
    )
    for pk, low, high, key in stored:
        existing[high if low == entity_id else low] = (pk, key)

    gone = [pk for other_id, (pk, _key) in existing.items() if other_id not in matched]
    if gone:
        Hit.objects.filter(pk__in=gone).delete()
    for other_id, (pk, key) in existing.items():
        shared = matched.get(other_id, (0, set()))[1]
        if shared and key not in shared:
            Hit.objects.filter(pk=pk).update(key=min(shared))

    created: list[Hit] = []
    if own_case_id is not None:
        for other_id, (other_case_id, shared) in sorted(matched.items()):
            if other_id in existing:
                continue
            pair = sorted([(entity_id, own_case_id), (other_id, other_case_id)])
            created.append(
                Hit(
                    entity_id=pair[0][0],
                    case_id=pair[0][1],
                    other_id=pair[1][0],
                    other_case_id=pair[1][1],
                    key=min(shared),
                )
            )
    if created:
        # A concurrent run for the other entity of a pair may have stored it already.
        Hit.objects.bulk_create(created, ignore_conflicts=True)

    if new_common:
        CommonKey.objects.bulk_create(
            [CommonKey(key=key) for key in new_common], ignore_conflicts=True
        )
        _retire_hits_on(new_common)
    if notify and created:
        pairs = [[hit.entity_id, hit.other_id] for hit in created]
        transaction.on_commit(lambda: _queue_notify(pairs), robust=True)
    return created


def _queue_notify(pairs: list[list[int]]) -> None:
    from cases import tasks

    tasks.hits_notify_task.delay(pairs)


# The holders of an entity's keys, at most ``limit + 1`` per key (parameters: the entity id,
# the limit + 1). Plain SQL with a window function (PostgreSQL, and SQLite since 3.25): the
# ORM's QUALIFY emulation of it took longer to compile than the database takes to run it.
# The tables are ``MatchKey._meta.db_table`` and ``CommonKey._meta.db_table`` (a test checks).
KEY_HOLDERS_SQL = """
SELECT "key", "entity_id", "case_id" FROM (
    SELECT m."key", m."entity_id", m."case_id",
        ROW_NUMBER() OVER (PARTITION BY m."key" ORDER BY m."entity_id") AS "holder_rank"
    FROM "cases_matchkey" m
    WHERE m."key" IN (SELECT o."key" FROM "cases_matchkey" o WHERE o."entity_id" = %s)
        AND m."key" NOT IN (SELECT c."key" FROM "cases_commonkey" c)
) ranked
WHERE "holder_rank" <= %s
"""


def _key_holders(entity_id: int, limit: int) -> list[tuple[str, int, int]]:
    """(key, entity id, case id) of every holder of each of the entity's keys that is not yet
    common, the entity itself included: one indexed query, kept free of joins (it runs for
    every saved entity). At most ``limit + 1`` holders per key are returned, enough to tell
    that a key is over the limit."""
    with connection.cursor() as cursor:
        cursor.execute(KEY_HOLDERS_SQL, [entity_id, limit + 1])
        return [(key, holder_id, case_id) for key, holder_id, case_id in cursor.fetchall()]


def _retire_hits_on(keys: Iterable[str]) -> None:
    """Hits found on keys that have just become common: kept on another key the pair still
    shares, deleted otherwise."""
    keys = list(keys)
    # Both entities of such a hit hold the key: reach the hits through the key's index.
    holders = MatchKey.objects.filter(key__in=keys).values("entity_id")
    hits = list(
        Hit.objects.filter(key__in=keys, entity_id__in=holders)
        .order_by()
        .values_list("pk", "entity_id", "other_id")
    )
    if not hits:
        return
    entity_ids = {entity_id for _pk, low, high in hits for entity_id in (low, high)}
    keys_of: dict[int, set[str]] = defaultdict(set)
    rows = (
        MatchKey.objects.filter(entity_id__in=entity_ids)
        .exclude(key__in=CommonKey.objects.values("key"))
        .values_list("entity_id", "key")
    )
    for entity_id, key in rows:
        keys_of[entity_id].add(key)
    gone = []
    for pk, low, high in hits:
        shared = keys_of[low] & keys_of[high]
        if shared:
            Hit.objects.filter(pk=pk).update(key=min(shared))
        else:
            gone.append(pk)
    Hit.objects.filter(pk__in=gone).delete()


def hits_notify(*, pairs: list[list[int]]) -> int:
    """Tell each owner agency of the hits between these pairs of entity ids (lower id first)
    that cannot see the other case: which of its cases matched, on what kind of value, and
    the other agency, country and contact point. Nothing else of the other case. A match on a
    protected identity is shown only to members who may see the protected identities of the
    recipient's own case (``protected_only``).

    One notice per own case, other agency and kind of value: a notice already given is not
    given again (so a retried task adds nothing); the hits page lists every hit. Hits that
    are gone meanwhile are skipped. Returns the number of notifications written.
    """
    wanted = {(low, high) for low, high in pairs}
    if not wanted:
        return 0
    candidates = Hit.objects.filter(
        entity_id__in={low for low, _high in wanted}, other_id__in={high for _low, high in wanted}
    ).order_by("pk")
    hits = [hit for hit in candidates if (hit.entity_id, hit.other_id) in wanted]
    return _notify(hits) if hits else 0


def _notify(hits: list[Hit]) -> int:
    entity_ids = {entity_id for hit in hits for entity_id in (hit.entity_id, hit.other_id)}
    entities = {
        row["pk"]: row
        for row in Entity.objects.filter(pk__in=entity_ids)
        .order_by()
        .values(
            "pk",
            "role",
            "holder__role",
            "case_id",
            "case__reference",
            "case__owner_agency_id",
            "case__owner_agency__group_id",
            "case__owner_agency__name",
            "case__owner_agency__country__name",
            "case__owner_agency__contact_point",
        )
    }
    cases = {row["case_id"]: row for row in entities.values()}
    case_ids = set(cases)
    # The agencies' live view grants on these cases: their own, and shares.
    granted = set(
        CaseGroupObjectPermission.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
            group_id__in={cases[case_id]["case__owner_agency__group_id"] for case_id in case_ids},
            content_object_id__in=case_ids,
            permission_id=permission_id("view_case"),
        ).values_list("group_id", "content_object_id")
    )
    notifications: dict[tuple[int, int, str, bool], Notification] = {}
    for hit in hits:
        sides = (
            (hit.case_id, hit.entity_id, hit.other_case_id),
            (hit.other_case_id, hit.other_id, hit.case_id),
        )
        if hit.entity_id not in entities or hit.other_id not in entities:
            continue  # removed meanwhile: its hits went with it
        for own_case_id, own_entity_id, other_case_id in sides:
            own, other = cases[own_case_id], cases[other_case_id]
            if (own["case__owner_agency__group_id"], other_case_id) in granted:
                continue  # they may see the other case: shown as a link, not a hit
            message = gettext(
                "An entity of your case %(reference)s has the same %(what)s as an entity of "
                "a case of %(agency)s (%(country)s). Contact point: %(contact)s."
            ) % {
                "reference": own["case__reference"],
                "agency": other["case__owner_agency__name"],
                "country": other["case__owner_agency__country__name"],
                "what": key_kind_label(hit.key),
                "contact": other["case__owner_agency__contact_point"] or gettext("none recorded"),
            }
            own_entity = entities[own_entity_id]
            roles = (own_entity["role"], own_entity["holder__role"])
            protected_only = bool(Entity.PROTECTED_ROLES.intersection(roles))
            notifications.setdefault(
                (own["case__owner_agency_id"], own_case_id, message, protected_only),
                Notification(
                    agency_id=own["case__owner_agency_id"],
                    kind=Notification.Kind.HIT,
                    case_id=own_case_id,
                    message=message[:500],
                    protected_only=protected_only,
                ),
            )
    already = set(
        Notification.objects.filter(kind=Notification.Kind.HIT, case_id__in=case_ids).values_list(
            "agency_id", "case_id", "message", "protected_only"
        )
    )
    new = [note for key, note in notifications.items() if key not in already]
    Notification.objects.bulk_create(new)
    return len(new)


# --- what members do with hits and common keys ---------------------------------------------
# Callers fetch the hit or key through ``cases.selectors`` (``get_hit_for_user``,
# ``get_common_key_for_supervisor``), which decides who may act on it.


def hit_dismiss(*, actor: Any, hit: Hit) -> HitDismissal:
    """Dismiss a hit for the actor's agency (the other agency still sees it); idempotent."""
    dismissal, _created = HitDismissal.objects.get_or_create(
        hit=hit, agency=actor.member.agency, defaults={"dismissed_by": actor}
    )
    return dismissal


def common_key_mark(*, actor: Any, common_key: CommonKey) -> CommonKey:
    """Record that a supervisor confirmed a key as common (it already produces no hits).

    The latest confirmation is kept: a supervisor is only ever shown a confirmation made in
    their own agency, since one from another agency would tell them who else holds the key.
    """
    common_key.marked_common_by = actor
    common_key.marked_common_at = timezone.now()
    common_key.save(update_fields=["marked_common_by", "marked_common_at"])
    return common_key
