"""Hit / no-hit: cross-case matches of entities, and the keys too common to mean anything.

``hits_detect`` runs in a Celery task queued on commit by ``services.entity_add`` and
``services.entity_update`` (through ``detection_request``, and by ``manage.py detect_hits``).
It compares the entity's match keys with every other case's in one indexed query and brings
the stored ``Hit`` rows of the entity in line: one row per pair of entities, whatever the
number of keys they share. Each hit records whose write found it (``Hit.triggered_by``).

What a member is told about a hit is decided when it is read (``cases.selectors.hit_list``),
from the grants of that moment: a hit between two cases the member may see is a link between
the two entities, a hit with a case they may not see says only which agency to contact.
New hits are also notified to both owner agencies (``hits_notify``, a task of its own that
detection queues on commit), in words that carry nothing of the other case.

Against hit/no-hit as a guessing oracle (one entity with hundreds of aliases tested hundreds
of name guesses in one request):

- An entity has at most ``CASEBOOK_HIT_MAX_KEYS_PER_ENTITY`` match keys (its name and
  aliases): ``check_key_count``, called by the entity services, refuses more on the aliases
  field and nothing is stored.
- New keys are detected within an hourly budget per member and per agency
  (``CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR``, ``..._AGENCY_PER_HOUR``), counted in the database
  (``HitDetection``: the web server runs several processes). A write over budget is kept, but
  its detection is deferred: a "refused" row (attempted "detect") goes to the access log, the
  agency is notified (``Notification.Kind.HIT_VOLUME``) and its supervisors see the deferred
  detections on the common-keys page. Deferred detection is not lost: the sweep
  (``detections_release``, a Celery beat task every five minutes) runs it as soon as both
  budgets have room again, oldest first, so a seizure list of a thousand phones is matched
  within a few hours instead of at once.
- A match between two agencies where one side is a protected identity (victim, witness,
  informant, or a value they hold) is a hit only if the protected side's agency allows it
  (``Agency.protected_match_policy``); it is then told to that agency only (a
  ``HIT_PROTECTED`` notification to those who may see the identity), which decides whether
  to contact. The other agency is told nothing: no hit row, no notification, no count. When
  both sides are protected there is no hit.

Noise control: a key held in the cases of more than ``settings.CASEBOOK_HIT_KEY_LIMIT``
distinct agencies (a bus company's switchboard, a shelter's address; copies in one agency's
cases count once) is recorded as a ``CommonKey`` and produces no hits from then on; the hits
it produced before go too, unless the pair shares another key. Supervisors see the common keys
their agency holds, with how many of their own agency's entities hold them (never how many
others do), and confirm them (``common_key_mark``) or restore them (``common_key_restore``:
the key's hits are detected again and detection never makes it common again).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from casebook import notifications
from casebook.access import record_refusal
from casebook.models import Agency, Notification
from casebook.notifications import Notice
from cases.models import (
    CaseGroupObjectPermission,
    CommonKey,
    Entity,
    Hit,
    HitDetection,
    HitDismissal,
    MatchKey,
)
from cases.permissions import permission_id
from cases.rules import hit_key_limit, key_kind_label, may_be_hit
from cases.selectors import hits as hit_selectors

OWNER_DECIDES = Agency.ProtectedMatchPolicy.OWNER_DECIDES
# What a deferred detection is logged as having attempted (``AccessLog.attempted``).
DETECT = "detect"
BUDGET_WINDOW = datetime.timedelta(hours=1)
# Deferred detections released by one run of the sweep, at most.
RELEASE_BATCH = 500

# --- the detection budget ------------------------------------------------------------------


def _used_budget(since: datetime.datetime, **owner: int) -> int:
    """New keys counted since ``since`` for one member (``actor_id``) or agency."""
    counted = HitDetection.objects.filter(counted_at__gte=since, **owner)
    return int(counted.aggregate(n=Sum("new_keys"))["n"] or 0)


def _over_budget(*, actor_id: int, agency_id: int, new_keys: int) -> str:
    """ "member" or "agency" if ``new_keys`` more would go over that hourly budget, else "".
    A budget with nothing counted takes any request (one entity never waits for ever)."""
    since = timezone.now() - BUDGET_WINDOW
    budgets = (
        ("member", settings.CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR, {"actor_id": actor_id}),
        ("agency", settings.CASEBOOK_HIT_DETECT_AGENCY_PER_HOUR, {"agency_id": agency_id}),
    )
    for name, limit, owner in budgets:
        used = _used_budget(since, **owner)
        if used and used + new_keys > int(limit):
            return name
    return ""


def _lock_agency(agency_id: int) -> None:
    """Serialise budget checks of one agency (two processes must not both take the last
    room). Call inside a transaction."""
    list(Agency.objects.select_for_update().filter(pk=agency_id).values_list("pk"))


def detection_request(*, actor: User, entity: Entity, new_keys: int) -> str:
    """Queue hit detection for ``entity`` on commit, after a write by ``actor`` that stored
    ``new_keys`` match keys the entity did not have; within the actor's and their agency's
    hourly budgets. Over budget, or while an earlier detection of the entity waits, the
    detection is deferred to ``detections_release``, the refusal logged (attempted "detect")
    and the agency notified. Returns the ``HitDetection.State`` it got.

    Writers without an agency (management commands) and writes that add no key (an edit of
    the description, a removed alias: detection only removes hits then) are not counted.
    """
    member = getattr(actor, "member", None) if actor is not None else None
    if member is None:
        _queue_detect(entity.pk, getattr(actor, "pk", None))
        return HitDetection.State.ALLOWED
    waiting = HitDetection.objects.filter(entity_id=entity.pk, state=HitDetection.State.DEFERRED)
    if waiting.exists():
        if new_keys:
            waiting.update(new_keys=F("new_keys") + new_keys)
        return HitDetection.State.DEFERRED
    if not new_keys:
        _queue_detect(entity.pk, actor.pk)
        return HitDetection.State.ALLOWED
    _lock_agency(member.agency_id)
    over = _over_budget(actor_id=actor.pk, agency_id=member.agency_id, new_keys=new_keys)
    detection = HitDetection.objects.create(
        entity=entity,
        actor=actor,
        agency_id=member.agency_id,
        new_keys=new_keys,
        state=HitDetection.State.DEFERRED if over else HitDetection.State.ALLOWED,
        counted_at=None if over else timezone.now(),
    )
    if not over:
        _queue_detect(entity.pk, actor.pk)
        return HitDetection.State.ALLOWED
    _refuse(detection, over=over, case=entity.case)
    return HitDetection.State.DEFERRED


def _refuse(detection: HitDetection, *, over: str, case: Any) -> None:
    """Log a deferred detection and tell the agency (once an hour per member, or for the
    agency as a whole)."""
    limit = int(
        settings.CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR
        if over == "member"
        else settings.CASEBOOK_HIT_DETECT_AGENCY_PER_HOUR
    )
    record_refusal(
        user=detection.actor,
        case=case,
        action=DETECT,
        detail=f"hit detection deferred: {detection.new_keys} new keys, {over} budget "
        f"{limit} an hour",
    )
    if over == "member":
        message = gettext(
            "Matching with other agencies' cases is deferred for %(user)s: more than "
            "%(limit)d new values in an hour. It runs later, as the hourly budget allows; "
            "supervisors see it on the common keys page."
        ) % {"user": detection.actor.get_username(), "limit": limit}
    else:
        message = gettext(
            "Matching with other agencies' cases is deferred for your agency: more than "
            "%(limit)d new values in an hour. It runs later, as the hourly budget allows; "
            "supervisors see it on the common keys page."
        ) % {"limit": limit}
    notifications.notify(
        agency_id=detection.agency_id,
        kind=Notification.Kind.HIT_VOLUME,
        message=message,
        once_within=BUDGET_WINDOW,
    )


def detections_release(*, batch: int = RELEASE_BATCH) -> int:
    """Run deferred detections, oldest first, as far as the members' and agencies' hourly
    budgets allow (the Celery beat sweep). Idempotent. Returns how many it ran."""
    waiting = list(
        HitDetection.objects.filter(state=HitDetection.State.DEFERRED)
        .order_by("requested_at", "id")
        .values_list("pk", "entity_id", "actor_id", "agency_id", "new_keys")[:batch]
    )
    released = 0
    for pk, entity_id, actor_id, agency_id, new_keys in waiting:
        with transaction.atomic():
            _lock_agency(agency_id)
            if _over_budget(actor_id=actor_id, agency_id=agency_id, new_keys=new_keys):
                continue
            taken = HitDetection.objects.filter(pk=pk, state=HitDetection.State.DEFERRED).update(
                state=HitDetection.State.RELEASED, counted_at=timezone.now()
            )
            if taken:
                hits_detect(entity_id=entity_id, triggered_by_id=actor_id)
                released += 1
    return released


def _queue_detect(entity_id: int, actor_id: int | None) -> None:
    """After commit, detect the entity's hits in a task. Robust: a failed detection (re-run
    by ``manage.py detect_hits``) never fails the saved write."""
    from cases import tasks  # local import: tasks call services, so they load after them

    transaction.on_commit(lambda: tasks.hits_detect_task.delay(entity_id, actor_id), robust=True)


# --- detection -----------------------------------------------------------------------------


@transaction.atomic
def hits_detect(
    *, entity_id: int, notify: bool = True, triggered_by_id: int | None = None
) -> list[Hit]:
    """Bring the hits of one entity in line with its current match keys; idempotent.

    Creates a hit for each entity of another case that shares a key with it (one per pair),
    moves a hit to another shared key when the one it was found on has gone, and deletes the
    hits of pairs that share no key any more (after an edit), or may not be a hit (a
    protected identity of another agency without its agency's consent). A key held in the
    cases of more than ``CASEBOOK_HIT_KEY_LIMIT`` distinct agencies is recorded as common
    instead, unless a supervisor restored it. With ``notify``, the new hits' notifications
    are queued on commit (``hits_notify``, another task: detection stays one indexed lookup
    and a few small writes). New hits record ``triggered_by_id``.

    Returns the hits created by this run. Takes the entity's primary key, as tasks do; an
    entity that no longer exists has no hits (they went with it) and gives an empty list.
    """
    limit = hit_key_limit()
    rows_by_key: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    own_case_id: int | None = None
    for key, holder_id, case_id, agency_id in _key_holders(entity_id, limit):
        rows_by_key[key].append((holder_id, case_id, agency_id))
        if holder_id == entity_id:
            own_case_id = case_id

    over = {key for key, rows in rows_by_key.items() if len({row[2] for row in rows}) > limit}
    if over:
        over = _widely_held(over, limit)
    new_common = sorted(over)

    # other entity -> (its case, the keys the pair shares)
    matched: dict[int, tuple[int, set[str]]] = {}
    for key, rows in rows_by_key.items():
        if key in over:
            continue
        for other_id, case_id, _agency_id in rows:
            if case_id != own_case_id:
                matched.setdefault(other_id, (case_id, set()))[1].add(key)
    _drop_protected_pairs(entity_id, matched)

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
                    triggered_by_id=triggered_by_id,
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


def _widely_held(keys: set[str], limit: int) -> set[str]:
    """Of keys held in the cases of more than ``limit`` agencies, those that become common:
    not the ones a supervisor restored, and only if more than ``limit`` agencies hold them
    without counting protected identities (a value a protected identity holds must change
    nothing another agency can observe). Reads every holder of these keys: it runs only
    when a key crosses the limit."""
    keys = keys - set(
        CommonKey.objects.filter(key__in=keys, restored_at__isnull=False).values_list(
            "key", flat=True
        )
    )
    if not keys:
        return set()
    roles = sorted(Entity.PROTECTED_ROLES)
    unprotected = (
        MatchKey.objects.filter(key__in=keys)
        .exclude(entity__role__in=roles)
        .exclude(entity__holder__role__in=roles)
        .order_by()
        .values("key")
        .annotate(agencies=Count("case__owner_agency_id", distinct=True))
        .filter(agencies__gt=limit)
    )
    return set(unprotected.values_list("key", flat=True))


def _drop_protected_pairs(entity_id: int, matched: dict[int, tuple[int, set[str]]]) -> None:
    """Remove from ``matched`` the entities of other agencies' cases that may not be a hit
    with ``entity_id``: when one side is a protected identity (by its role or its holder's),
    only if that side's agency allows it, and never when both are (``may_be_hit``)."""
    if not matched:
        return
    sides = {
        pk: (bool(Entity.PROTECTED_ROLES.intersection((role, holder_role))), agency_id, policy)
        for pk, role, holder_role, agency_id, policy in Entity.objects.filter(
            pk__in=[entity_id, *matched]
        )
        .order_by()
        .values_list(
            "pk",
            "role",
            "holder__role",
            "case__owner_agency_id",
            "case__owner_agency__protected_match_policy",
        )
    }
    own = sides.get(entity_id)
    for other_id in list(matched):
        other = sides.get(other_id)
        if own is None or other is None or not may_be_hit(own, other):
            del matched[other_id]


def _queue_notify(pairs: list[list[int]]) -> None:
    from cases import tasks  # local import: tasks call services, so they load after them

    tasks.hits_notify_task.delay(pairs)


# The holders of an entity's keys that are not common (a restored key is not), with their
# cases' owner agencies: at most ``limit`` per key and agency, and the entity itself
# (parameters: the entity id, the limit, the entity id). Distinct agencies, not rows, make a
# key common: one agency's copies of a value count once. Plain SQL with a window function
# (PostgreSQL, and SQLite since 3.25): the ORM's QUALIFY emulation of it took longer to
# compile than the database takes to run it. The tables are ``MatchKey._meta.db_table``,
# ``Case._meta.db_table`` and ``CommonKey._meta.db_table`` (a test checks).
KEY_HOLDERS_SQL = """
SELECT "key", "entity_id", "case_id", "agency_id" FROM (
    SELECT m."key", m."entity_id", m."case_id", c."owner_agency_id" AS "agency_id",
        ROW_NUMBER() OVER (
            PARTITION BY m."key", c."owner_agency_id" ORDER BY m."entity_id"
        ) AS "holder_rank"
    FROM "cases_matchkey" m
    INNER JOIN "cases_case" c ON c."id" = m."case_id"
    WHERE m."key" IN (SELECT o."key" FROM "cases_matchkey" o WHERE o."entity_id" = %s)
        AND m."key" NOT IN (
            SELECT k."key" FROM "cases_commonkey" k WHERE k."restored_at" IS NULL
        )
) ranked
WHERE "holder_rank" <= %s OR "entity_id" = %s
"""


def _key_holders(entity_id: int, limit: int) -> list[tuple[str, int, int, int]]:
    """(key, entity id, case id, owner agency id) of holders of each of the entity's keys
    that is not common, the entity itself included: one indexed query (it runs for every
    saved entity). At most ``limit`` holders per key and agency are returned: enough to tell
    that more than ``limit`` agencies hold a key."""
    with connection.cursor() as cursor:
        cursor.execute(KEY_HOLDERS_SQL, [entity_id, limit, entity_id])
        return [tuple(row) for row in cursor.fetchall()]


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
        .exclude(key__in=CommonKey.objects.filter(restored_at__isnull=True).values("key"))
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
    recipient's own case (``protected_only``); between two agencies it is a ``HIT_PROTECTED``
    notice to the protected side's agency if its policy allows it, and nothing at all to the
    other agency.

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


def _protected(entity: Mapping[str, Any]) -> bool:
    """Whether an entity read as values (with ``role`` and ``holder__role``) is protected."""
    return bool(Entity.PROTECTED_ROLES.intersection((entity["role"], entity["holder__role"])))


def _hit_message(kind: str) -> str:
    if kind == Notification.Kind.HIT_PROTECTED:
        return gettext(
            "A protected identity of your case %(reference)s has the same %(what)s as an "
            "entity of a case of %(agency)s (%(country)s). They have not been told: decide "
            "whether to contact them. Contact point: %(contact)s."
        )
    return gettext(
        "An entity of your case %(reference)s has the same %(what)s as an entity of a case "
        "of %(agency)s (%(country)s). Contact point: %(contact)s."
    )


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
            "case__owner_agency__protected_match_policy",
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
    notices: list[Notice] = []
    for hit in hits:
        sides = (
            (hit.case_id, hit.entity_id, hit.other_case_id, hit.other_id),
            (hit.other_case_id, hit.other_id, hit.case_id, hit.entity_id),
        )
        if hit.entity_id not in entities or hit.other_id not in entities:
            continue  # removed meanwhile: its hits went with it
        for own_case_id, own_entity_id, other_case_id, other_entity_id in sides:
            own, other = cases[own_case_id], cases[other_case_id]
            if (own["case__owner_agency__group_id"], other_case_id) in granted:
                continue  # they may see the other case: shown as a link, not a hit
            own_protected = _protected(entities[own_entity_id])
            kind = Notification.Kind.HIT
            if own["case__owner_agency_id"] != other["case__owner_agency_id"]:
                if _protected(entities[other_entity_id]):
                    continue  # the other side is a protected identity: told nothing
                if own_protected:
                    if own["case__owner_agency__protected_match_policy"] != OWNER_DECIDES:
                        continue
                    kind = Notification.Kind.HIT_PROTECTED
            message = _hit_message(kind) % {
                "reference": own["case__reference"],
                "agency": other["case__owner_agency__name"],
                "country": other["case__owner_agency__country__name"],
                "what": key_kind_label(hit.key),
                "contact": other["case__owner_agency__contact_point"] or gettext("none recorded"),
            }
            notices.append(
                Notice(
                    agency_id=own["case__owner_agency_id"],
                    kind=kind,
                    case_id=own_case_id,
                    message=message,
                    protected_only=own_protected,
                )
            )
    return notifications.notify_new(notices)


# --- what members do with hits and common keys ---------------------------------------------


def _require_told(actor: User, hit: Hit) -> None:
    # Fail closed: the same rule as the page that offers the action (one query).
    try:
        hit_selectors.get_hit_for_user(actor, hit.uuid)
    except Http404:
        raise PermissionDenied(_("You may not do this.")) from None


def _require_reviewer(actor: User, common_key: CommonKey) -> None:
    try:
        hit_selectors.get_common_key_for_supervisor(actor, common_key.uuid)
    except Http404:
        raise PermissionDenied(_("Only supervisors review common keys.")) from None


# Callers fetch the hit or key through ``cases.selectors`` (``get_hit_for_user``,
# ``get_common_key_for_supervisor``), which decides who may act on it.


def hit_dismiss(*, actor: User, hit: Hit) -> HitDismissal:
    """Dismiss a hit for the actor's agency (the other agency still sees it); idempotent.
    Only a hit the actor is told about (``PermissionDenied`` otherwise)."""
    _require_told(actor, hit)
    dismissal, _created = HitDismissal.objects.get_or_create(
        hit=hit, agency=actor.member.agency, defaults={"dismissed_by": actor}
    )
    return dismissal


@transaction.atomic
def common_key_mark(*, actor: User, common_key: CommonKey) -> CommonKey:
    """Record that a supervisor confirmed a key as common (it produces no hits). A restored
    key is common again: its hits go, as when detection made it common.

    The latest confirmation is kept: a supervisor is only ever shown a confirmation made in
    their own agency, since one from another agency would tell them who else holds the key.
    Only by a supervisor who is shown the key (``PermissionDenied`` otherwise).
    """
    _require_reviewer(actor, common_key)
    was_restored = common_key.restored_at is not None
    common_key.marked_common_by = actor
    common_key.marked_common_at = timezone.now()
    common_key.restored_by = None
    common_key.restored_at = None
    common_key.save(
        update_fields=["marked_common_by", "marked_common_at", "restored_by", "restored_at"]
    )
    if was_restored:
        _retire_hits_on([common_key.key])
    return common_key


@transaction.atomic
def common_key_restore(*, actor: User, common_key: CommonKey) -> CommonKey:
    """A supervisor's review found that a common key means something (a value one agency
    copied many times, a number that only looked like a switchboard): it produces hits again,
    the hits of its holders are detected again on commit (``hits_redetect_key``, recorded as
    triggered by the supervisor), and detection never makes it common again; a supervisor
    may confirm it as common again (``common_key_mark``). Idempotent. Only by a supervisor
    who is shown the key (``PermissionDenied`` otherwise)."""
    _require_reviewer(actor, common_key)
    if common_key.restored_at is not None:
        return common_key
    common_key.restored_by = actor
    common_key.restored_at = timezone.now()
    common_key.save(update_fields=["restored_by", "restored_at"])
    key, actor_id = common_key.key, actor.pk

    def queue() -> None:
        from cases import tasks  # local import: tasks call services, so they load after them

        tasks.hits_redetect_key_task.delay(key, actor_id)

    transaction.on_commit(queue, robust=True)
    return common_key


def hits_redetect_key(*, key: str, triggered_by_id: int | None = None) -> int:
    """Detect again the hits of every entity that holds ``key`` (after it was restored), each
    in its own transaction. Idempotent; returns the number of new hits."""
    holders = MatchKey.objects.filter(key=key).order_by("entity_id").values_list("entity_id")
    entity_ids = [entity_id for (entity_id,) in holders.distinct()]
    return sum(
        len(hits_detect(entity_id=entity_id, triggered_by_id=triggered_by_id))
        for entity_id in entity_ids
    )
