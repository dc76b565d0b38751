"""Sharing a case with other agencies, and the handling-code (TLP 2.0) rules that limit it.

A share is a ``CaseShare`` record (purpose, who granted it, expiry, end) plus the grants it
gives: rows of ``CaseGroupObjectPermission`` on the recipient agency's group that point back
to the share and carry its expiry. Ending a share deletes its grants in the same transaction,
so a revoke takes effect on the next request on every channel; an expired share stops working
at its expiry because ``cases.selectors.live_grants`` ignores expired grants, before
``shares_expire`` (a periodic task) closes it.

Re-shares end with the share they came from. A recipient with the manage level may re-share
(where the handling code allows it); the re-share's ``granted_by_agency`` is that recipient,
and the share it came from is the recipient's own open share of the case (there is at most
one per case and agency). The rule, which keeps ``live_grants`` the one test of liveness:

- A re-share never outlives the share it came from. Granting one caps its expiry at the
  granting agency's own: without an expiry it gets that one, and a later one is refused on
  ``expires_at``. Its grants carry that expiry, so it stops working at the same moment as the
  share it came from, before the clean-up runs.
- When a share ends (revoked, closed by ``shares_expire``, revoked after a raised handling
  code), every open share of the case that its agency granted ends in the same transaction,
  and theirs in turn, down the chain: their grants are deleted, their end reason is "the
  share it came from ended" ("expired" if their own expiry came first), and their agencies
  are told so (``Notification.Kind.SHARE_SOURCE_ENDED``, without a link to the case).
- Replacing a share (sharing again with an agency) changes its terms without ending the
  agency's authority: if the new share keeps the manage level, the agency's re-shares stay,
  shortened to the new expiry if they would outlast it (they are never lengthened again),
  and the agencies of the shortened ones are told their new end
  (``Notification.Kind.SHARE_SHORTENED``); below the manage level they end as above.
- The owner agency's own grants are not shares and never end this way, and a share the
  owner granted never ends because a recipient's share ended.
- ``shares_expire`` also ends any open re-share whose granting agency holds no live
  manage-level share: a safety net for data from before this rule, not the mechanism.

Callers fetch the case through ``cases.selectors.get_case_access(..., action="manage")``
and hand the ``CaseAccess`` over; the services check it again (fail closed), check the policy
and raise ``ValidationError`` keyed by form field (``agency``, ``level``,
``include_protected``, ``expires_at``, ``purpose``, or the form as a whole) and leave the
database as it was. Shares and revokes are written to the access log here, and so are their
refusals, after the transaction has rolled back (``guards.refusals_logged``: a log row
written inside it would roll back too).

What each handling code (TLP 2.0) allows is the table of ``cases.rules``.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from casebook import access as access_log
from casebook import notifications
from casebook.audit import attribute_to
from casebook.models import AccessLog, Agency, Country, Notification
from cases import outbox, selectors
from cases.models import Case, CaseEvent, CaseGroupObjectPermission, CaseShare
from cases.permissions import CaseAccess
from cases.rules import HANDLING_RULES, NEVER, level_rank, may_grant, may_reshare_to, may_revoke
from cases.selectors.sharing import active_at, code_change_conflicts
from cases.services.cases import case_update
from cases.services.guards import refusals_logged

Code = Case.HandlingCode
Level = CaseShare.Level
# --- services ---------------------------------------------------------------------------------


def _agency_of(user: User) -> Agency | None:
    member = getattr(user, "member", None)
    return member.agency if member is not None else None


def _require_manage(access: CaseAccess) -> Agency:
    agency = _agency_of(access.user)
    if agency is None or not access.allows("manage"):
        raise PermissionDenied(_("You may not manage the sharing of this case."))
    return agency


def _notify_ended(share: CaseShare, *, by: Agency | None) -> None:
    """Tell the agency that lost access (without a link: it can no longer see the case) why
    its share ended; an expiry is told to the owner agency too. ``by``: the agency that
    revoked it, for a revoke."""
    case = share.case
    values = {"agency": share.agency.name, "reference": case.reference}
    if share.end_reason == CaseShare.EndReason.EXPIRED:
        notifications.notify(
            agency_id=case.owner_agency_id,
            kind=Notification.Kind.SHARE_EXPIRED,
            case_id=case.pk,
            message=_("The share of case %(reference)s with %(agency)s has expired.") % values,
        )
        notifications.notify(
            agency_id=share.agency_id,
            kind=Notification.Kind.SHARE_EXPIRED,
            message=_("Your agency's access to case %(reference)s has expired.") % values,
        )
        return
    if share.end_reason == CaseShare.EndReason.PARENT_ENDED:
        notifications.notify(
            agency_id=share.agency_id,
            kind=Notification.Kind.SHARE_SOURCE_ENDED,
            message=_(
                "Your agency's access to case %(reference)s ended because %(agency)s, which "
                "shared it with you, no longer has the access it shared."
            )
            % {"agency": share.granted_by_agency.name, "reference": case.reference},
        )
        return
    message = _("%(agency)s ended your agency's access to case %(reference)s.") % {
        "agency": by.name if by is not None else case.owner_agency.name,
        "reference": case.reference,
    }
    notifications.notify(
        agency_id=share.agency_id, kind=Notification.Kind.SHARE_REVOKED, message=message
    )


def _notify_shortened(share: CaseShare, *, until: datetime.datetime) -> None:
    """Tell the agency of a re-share that ``_cap_reshares`` shortened that its access now
    ends at ``until``. It still sees the case, so the notice links to it (the notifications
    page shows the link only while the agency may see the case).

    Only the agencies of the shortened re-shares are told: theirs is the access that changed
    without their doing, and they need the new date to plan their work. The owner agency is
    not told: its own access does not change; it shortened the share itself, or the recipient
    that did acted on the authority the owner gave it (the owner is not told of re-shares
    either); its sharing page lists every share with its expiry; and it is told when each
    share expires, which is when access stops. A notice per re-share of a chain would bury
    its supervisors in news they can read on that page. The agency whose share was replaced
    is told of its new share as of any share."""
    case = share.case
    notifications.notify(
        agency_id=share.agency_id,
        kind=Notification.Kind.SHARE_SHORTENED,
        case_id=case.pk,
        message=_(
            "Your agency's access to case %(reference)s now ends earlier, at %(expiry)s UTC, "
            "because the access of %(agency)s, which shared it with you, was shortened."
        )
        % {
            "reference": case.reference,
            "expiry": _format_utc(until),
            "agency": share.granted_by_agency.name,
        },
    )


def _end(share: CaseShare, *, reason: str, actor: User | None, at: datetime.datetime) -> None:
    """Close ``share`` and delete its grants (call inside a transaction)."""
    CaseGroupObjectPermission.objects.filter(share=share).delete()
    share.ended_at = at
    share.end_reason = reason
    share.ended_by = actor
    attribute_to(share, actor)
    share.save(update_fields=["ended_at", "end_reason", "ended_by"])


def _end_as_reshare(share: CaseShare, *, actor: User | None, at: datetime.datetime) -> None:
    """End a re-share because the share it came from ended at ``at``: as "expired" at its own
    expiry if that came first, else as "the share it came from ended"."""
    if share.expires_at is not None and share.expires_at <= at:
        _end(share, reason=CaseShare.EndReason.EXPIRED, actor=actor, at=share.expires_at)
    else:
        _end(share, reason=CaseShare.EndReason.PARENT_ENDED, actor=actor, at=at)


def _open_reshares_of(
    case: Case, granters: set[int], *, skip_locked: bool = False
) -> list[CaseShare]:
    """The open shares of ``case`` granted by the agencies ``granters`` (never the owner's
    own grants), locked until commit; ``skip_locked`` leaves out those another transaction
    holds."""
    return list(
        CaseShare.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .filter(case=case, granted_by_agency_id__in=granters, ended_at__isnull=True)
        .exclude(granted_by_agency_id=case.owner_agency_id)
        .select_related("agency", "granted_by_agency")
        .order_by("pk")
    )


def _end_reshares_of(
    case: Case,
    agency_id: int,
    *,
    actor: User | None,
    at: datetime.datetime,
    skip_locked: bool = False,
) -> list[CaseShare]:
    """End every open share of ``case`` that ``agency_id`` granted, and those their agencies
    granted in turn, down the chain (``_end_as_reshare``); returns them. Nothing is ended
    when ``agency_id`` is the owner agency: its shares stand on its own authority. Call
    inside a transaction."""
    ended: list[CaseShare] = []
    seen = {case.owner_agency_id}
    granters = {agency_id} - seen
    while granters:
        seen |= granters
        children = _open_reshares_of(case, granters, skip_locked=skip_locked)
        for child in children:
            child.case = case
            _end_as_reshare(child, actor=actor, at=at)
        ended.extend(children)
        granters = {child.agency_id for child in children} - seen
    return ended


def _end_with_reshares(
    share: CaseShare,
    *,
    reason: str,
    actor: User | None,
    at: datetime.datetime,
    skip_locked: bool = False,
) -> list[CaseShare]:
    """End ``share`` with ``reason`` and, in the same transaction, the re-shares that came
    from it (``_end_reshares_of``); returns the ended shares, ``share`` first."""
    _end(share, reason=reason, actor=actor, at=at)
    return [
        share,
        *_end_reshares_of(share.case, share.agency_id, actor=actor, at=at, skip_locked=skip_locked),
    ]


def _cap_reshares(
    case: Case, agency_id: int, limit: datetime.datetime, *, actor: User
) -> list[CaseShare]:
    """Shorten the open re-shares that ``agency_id`` granted, and theirs down the chain, so
    that none ends after ``limit`` (the new expiry of the agency's own share); returns the
    shortened ones. A re-share that ends earlier keeps its expiry; none is ever lengthened.
    Call inside a transaction."""
    shortened: list[CaseShare] = []
    seen = {case.owner_agency_id}
    granters = {agency_id} - seen
    while granters:
        seen |= granters
        children = _open_reshares_of(case, granters)
        for child in children:
            if child.expires_at is None or child.expires_at > limit:
                child.case = case
                child.expires_at = limit
                attribute_to(child, actor)
                child.save(update_fields=["expires_at"])
                # Grants are not audited; the share's history records the change.
                CaseGroupObjectPermission.objects.filter(share=child).update(expires_at=limit)
                shortened.append(child)
        granters = {child.agency_id for child in children} - seen
    return shortened


def _format_utc(moment: datetime.datetime) -> str:
    return formats.date_format(moment.astimezone(datetime.UTC), "SHORT_DATETIME_FORMAT")


def _check_share(
    *,
    case: Case,
    actor_agency: Agency,
    actor_level: str | None,
    agency: Agency | None,
    level: str,
    purpose: str,
    expires_at: datetime.datetime | None,
    expiry_limit: datetime.datetime | None,
    include_protected: bool,
    now: datetime.datetime,
) -> Agency:
    """The recipient agency, or ``ValidationError`` with what the share breaks, by field."""
    is_owner = actor_agency.pk == case.owner_agency_id
    code = case.handling_code
    label = Code(code).label
    if not may_grant(code, is_owner=is_owner, actor_level=actor_level):
        if HANDLING_RULES[code].reshare == NEVER:
            message = _("Under %(code)s only the owner agency may share this case.")
        else:
            message = _("Under %(code)s only recipients with the manage level may re-share.")
        raise ValidationError({NON_FIELD_ERRORS: message % {"code": label}})
    errors: dict[str, str] = {}
    if agency is None or agency.pk is None or not Agency.objects.filter(pk=agency.pk).exists():
        raise ValidationError({NON_FIELD_ERRORS: _("There is no such agency.")})
    if not getattr(agency, "is_active", True):
        raise ValidationError({NON_FIELD_ERRORS: _("This agency no longer uses Casebook.")})
    if agency.pk == actor_agency.pk:
        errors["agency"] = _("You cannot share a case with your own agency.")
    elif agency.pk == case.owner_agency_id:
        errors["agency"] = _("The owner agency already holds every permission on its case.")
    elif not is_owner and not may_reshare_to(code, actor_agency=actor_agency, target_agency=agency):
        errors["agency"] = _(
            "Under %(code)s a recipient may re-share only with agencies of its own country."
        ) % {"code": label}
    if level not in CaseShare.LEVEL_ORDER:
        errors["level"] = _("Choose view, contribute or manage.")
    elif not is_owner and (actor_level is None or level_rank(level) > level_rank(actor_level)):
        errors["level"] = _("You cannot grant a level above your own agency's.")
    if include_protected and not is_owner:
        errors["include_protected"] = _(
            "Only the owner agency may share the protected identities of a case."
        )
    if not purpose.strip():
        errors["purpose"] = _("Say why you share this case; the purpose is recorded.")
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = _("The expiry must be in the future.")
    elif expires_at is not None and expiry_limit is not None and expires_at > expiry_limit:
        errors["expires_at"] = _(
            "Your agency's own access to this case ends at %(limit)s UTC, and a re-share "
            "cannot outlast it: choose an earlier date, or none to end with it."
        ) % {"limit": _format_utc(expiry_limit)}
    if errors:
        raise ValidationError(errors)
    return agency


@refusals_logged("share")
@transaction.atomic
def case_share(
    *,
    access: CaseAccess,
    agency: Agency | None,
    level: str,
    purpose: str,
    expires_at: datetime.datetime | None = None,
    include_protected: bool = False,
) -> CaseShare:
    """Share the case of ``access`` with ``agency`` at ``level`` and notify that agency.

    The user of ``access`` must hold the manage action on the case (else
    ``PermissionDenied``). Checks the
    handling-code rules and the input, raising ``ValidationError`` keyed by form field. A
    re-share (the actor is a recipient) ends no later than the actor's own share: without an
    expiry it gets that one, a later one is refused on ``expires_at``.

    An open share of the case with the same agency is replaced: it ends with reason
    "replaced" and a new share is created, so that the history shows both. A recipient may
    replace only a share its own agency granted. The re-shares the agency granted from the
    replaced share follow the new one: they end if it is below the manage level, and are
    shortened to its expiry if they would outlast it; the agencies of those that end or are
    shortened are told. Locks the case row until commit. Written to the access log: the
    share, or its refusal (``refusals_logged``).
    """
    actor, case = access.user, access.case
    actor_agency = _require_manage(access)
    Case.objects.select_for_update().filter(pk=case.pk).first()
    now = timezone.now()
    is_owner = actor_agency.pk == case.owner_agency_id
    actor_level: str | None = None
    expiry_limit: datetime.datetime | None = None
    if not is_owner:
        own = CaseShare.objects.filter(active_at(now), case=case, agency=actor_agency).first()
        if own is None:
            raise PermissionDenied(_("You may not manage the sharing of this case."))
        actor_level = own.level
        expiry_limit = own.expires_at
    agency = _check_share(
        case=case,
        actor_agency=actor_agency,
        actor_level=actor_level,
        agency=agency,
        level=level,
        purpose=purpose,
        expires_at=expires_at,
        expiry_limit=expiry_limit,
        include_protected=include_protected,
        now=now,
    )
    if expires_at is None:
        expires_at = expiry_limit
    previous = (
        CaseShare.objects.select_for_update()
        .filter(case=case, agency=agency, ended_at__isnull=True)
        .first()
    )
    if previous is not None:
        if not is_owner and previous.granted_by_agency_id != actor_agency.pk:
            raise ValidationError(
                {"agency": _("This agency already has a share that another agency granted.")}
            )
        previous.case = case
        if previous.expires_at is not None and previous.expires_at <= now:
            # It ended at its expiry already, and so did the re-shares that came from it.
            ended = _end_with_reshares(
                previous, reason=CaseShare.EndReason.EXPIRED, actor=actor, at=now
            )
            for each in ended[1:]:
                _notify_ended(each, by=actor_agency)
            previous = None
        else:
            _end(previous, reason=CaseShare.EndReason.REPLACED, actor=actor, at=now)
    share = CaseShare(
        case=case,
        agency=agency,
        level=level,
        include_protected=include_protected,
        purpose=purpose.strip(),
        granted_by=actor,
        granted_by_agency=actor_agency,
        granted_at=now,
        expires_at=expires_at,
    )
    attribute_to(share, actor)
    share.save()
    codenames = list(CaseShare.LEVEL_PERMISSIONS[level])
    if include_protected:
        codenames.append("view_protected")
    CaseGroupObjectPermission.objects.bulk_create(
        CaseGroupObjectPermission(
            content_object=case,
            group_id=agency.group_id,
            permission_id=selectors.permission_id(codename),
            share=share,
            expires_at=expires_at,
        )
        for codename in codenames
    )
    if previous is not None:
        # The agency's re-shares came from the replaced share: they follow the new one.
        if level != Level.MANAGE:
            for each in _end_reshares_of(case, agency.pk, actor=actor, at=now):
                _notify_ended(each, by=actor_agency)
        elif expires_at is not None:
            for each in _cap_reshares(case, agency.pk, expires_at, actor=actor):
                _notify_shortened(each, until=expires_at)
    notifications.notify(
        agency_id=agency.pk,
        kind=Notification.Kind.SHARE_GRANTED,
        case_id=case.pk,
        message=_("%(agency)s shared case %(reference)s with you (%(level)s).")
        % {
            "agency": actor_agency.name,
            "reference": case.reference,
            "level": share.get_level_display(),
        },
    )
    outbox.case_changed(case=case, what=CaseEvent.What.SHARE, actor=actor, object_uuid=share.uuid)
    access_log.record(
        action=AccessLog.Action.SHARE,
        object_type="share",
        case=case,
        object_uuid=share.uuid,
        detail=f"{share.agency.acronym or share.agency.name} {share.level}",
    )
    return share


@refusals_logged("revoke")
@transaction.atomic
def share_revoke(*, access: CaseAccess, share: CaseShare) -> CaseShare:
    """End ``share`` at once: its grants are deleted in this transaction, so the recipient
    loses access on its next request. The re-shares that came from it end with it, down the
    chain (``_end_reshares_of``). Notifies every agency that lost access.

    Who may: a manager of the case in the owner agency, or in the agency that granted the
    share (else ``PermissionDenied``). An ended share is a ``ValidationError``. Written to
    the access log: the revoke, or its refusal.
    """
    actor, case = access.user, access.case
    if share.case_id != case.pk:
        raise PermissionDenied(_("You may not do this on this case."))
    agency = _require_manage(access)
    if not may_revoke(agency, share):
        raise PermissionDenied(_("Only the owner agency or the agency that granted a share "
                                 "may revoke it."))  # fmt: skip
    locked = CaseShare.objects.select_for_update().get(pk=share.pk)
    if locked.ended_at is not None:
        raise ValidationError(_("This share has already ended."))
    ended = _end_with_reshares(
        share, reason=CaseShare.EndReason.REVOKED, actor=actor, at=timezone.now()
    )
    for each in ended:
        _notify_ended(each, by=agency)
    outbox.case_changed(case=case, what=CaseEvent.What.SHARE, actor=actor, object_uuid=share.uuid)
    access_log.record(
        action=AccessLog.Action.REVOKE, object_type="share", case=case, object_uuid=share.uuid
    )
    return share


def _orphaned_reshares(now: datetime.datetime) -> list[CaseShare]:
    """Open re-shares whose granting agency holds no live manage-level share of the case."""
    vouching = CaseShare.objects.filter(
        active_at(now),
        case=OuterRef("case"),
        agency=OuterRef("granted_by_agency"),
        level=Level.MANAGE,
    )
    return list(
        CaseShare.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(ended_at__isnull=True)
        .exclude(granted_by_agency=F("case__owner_agency"))
        .exclude(Exists(vouching))
        .select_related("case__owner_agency", "agency", "granted_by_agency")
        .order_by("pk")
    )


@transaction.atomic
def shares_expire(*, now: datetime.datetime | None = None) -> int:
    """Close the open shares whose expiry has passed (reason "expired", ended at their
    expiry), and the re-shares that came from them, delete their grants and notify the
    agencies (the owner too, of every expiry). Returns how many shares it closed.

    Expired shares already gave no access (``live_grants`` checks the expiry, and a re-share
    never outlives the share it came from); this is the clean-up. It is also the safety net
    for re-shares whose granting agency no longer holds a live manage-level share (left from
    before that rule, or skipped while another transaction held them): they end too.
    Idempotent: a closed share is never touched again."""
    now = now or timezone.now()
    due = list(
        # Lock the shares only (not the cases and agencies joined for the messages), and skip
        # those another run or a revoke holds: they are being ended already.
        CaseShare.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(ended_at__isnull=True, expires_at__lte=now)
        .select_related("case__owner_agency", "agency", "granted_by_agency")
        .order_by("expires_at", "pk")
    )
    closed: set[int] = set()
    changed_cases: set[int] = set()
    for share in due:
        if share.pk in closed:
            continue  # ended already, with the share it came from
        ended = _end_with_reshares(
            share,
            reason=CaseShare.EndReason.EXPIRED,
            actor=None,
            at=share.expires_at or now,
            skip_locked=True,
        )
        for each in ended:
            closed.add(each.pk)
            changed_cases.add(each.case_id)
            _notify_ended(each, by=None)
    for orphan in _orphaned_reshares(now):
        if orphan.pk in closed:
            continue
        _end_as_reshare(orphan, actor=None, at=now)
        below = _end_reshares_of(
            orphan.case, orphan.agency_id, actor=None, at=now, skip_locked=True
        )
        ended = [orphan, *below]
        for each in ended:
            closed.add(each.pk)
            changed_cases.add(each.case_id)
            _notify_ended(each, by=None)
    for case_id in sorted(changed_cases):
        outbox.case_changed(case=case_id, what=CaseEvent.What.EXPIRY)
    return len(closed)


KEEP = "keep"
REVOKE = "revoke"


@transaction.atomic
def case_set_handling_code(
    *, access: CaseAccess, code: str, revoke_conflicting: bool | None = None
) -> list[CaseShare]:
    """Change the case's handling code; returns the shares the new code puts in question.

    The only way to change a case's code (``services.case_update`` refuses it). Only members
    of the owner agency who may change the case may change its code (a recipient lowering it
    could widen its own re-sharing). Raising the code never revokes silently: when active
    shares conflict (``code_change_conflicts``) the caller passes the owner's decision,
    ``revoke_conflicting=True`` (they are revoked with the re-shares that came from them,
    and their agencies notified) or ``False`` (they are kept, and the history's change
    reason says so); ``None`` with conflicts is a ``ValidationError`` on
    ``conflicting_shares``.
    """
    actor, case = access.user, access.case
    agency = _agency_of(actor)
    if agency is None or agency.pk != case.owner_agency_id or not access.allows("change"):
        raise ValidationError(
            {"handling_code": _("Only the owner agency may change the handling code.")}
        )
    if code not in HANDLING_RULES:
        raise ValidationError({"handling_code": _("Choose a TLP 2.0 handling code.")})
    if code == case.handling_code:
        return []
    Case.objects.select_for_update().filter(pk=case.pk).first()
    conflicts = code_change_conflicts(case, code)
    reason = ""
    if conflicts and revoke_conflicting is None:
        raise ValidationError(
            {
                "conflicting_shares": _(
                    "Decide whether to revoke or keep the shares the new "
                    "handling code would not allow."
                )
            }  # fmt: skip
        )
    if conflicts and revoke_conflicting:
        now = timezone.now()
        # Revoke the top of each chain; the re-shares below end with it.
        in_question = {share.agency_id for share in conflicts}
        for share in conflicts:
            if share.granted_by_agency_id in in_question:
                continue
            share.case = case
            ended = _end_with_reshares(
                share, reason=CaseShare.EndReason.REVOKED, actor=actor, at=now
            )
            for each in ended:
                _notify_ended(each, by=agency)
        reason = _("revoked %(count)d shares the new handling code does not allow") % {
            "count": len(conflicts)
        }
    elif conflicts:
        reason = _("kept %(count)d shares the new handling code would not allow") % {
            "count": len(conflicts)
        }
    case.handling_code = code
    case._change_reason = reason  # type: ignore[attr-defined]  # simple-history's hook
    attribute_to(case, actor)
    try:
        case.save(update_fields=["handling_code", "updated_at"])
    finally:
        # simple-history would otherwise give the reason to the case's next save too.
        del case._change_reason  # type: ignore[attr-defined]  # simple-history's hook
    outbox.case_changed(
        case=case, what=CaseEvent.What.HANDLING_CODE, actor=actor, object_uuid=case.uuid
    )
    return conflicts


@transaction.atomic
def case_update_with_code(
    *,
    access: CaseAccess,
    handling_code: str,
    revoke_conflicting: bool | None = None,
    countries: Iterable[Country] | None = None,
    **changes: Any,
) -> Case:
    """What the case edit page saves: the core fields through ``services.case_update`` and,
    when it differs, the handling code through ``case_set_handling_code`` (with the owner's
    decision on conflicting shares), all in one transaction: a refused code change stores
    none of the other changes either."""
    case = case_update(access=access, countries=countries, **changes)
    if handling_code != case.handling_code:
        case_set_handling_code(
            access=access, code=handling_code, revoke_conflicting=revoke_conflicting
        )
    return case
