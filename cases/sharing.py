"""Sharing a case with other agencies, and the handling-code (TLP 2.0) rules that limit it.

A share is a ``CaseShare`` record (purpose, who granted it, expiry, end) plus the grants it
gives: rows of ``CaseGroupObjectPermission`` on the recipient agency's group that point back
to the share and carry its expiry. Ending a share deletes its grants in the same transaction,
so a revoke takes effect on the next request on every channel; an expired share stops working
at its expiry because ``cases.selectors.live_grants`` ignores expired grants, before
``shares_expire`` (a periodic task) closes it.

Callers fetch the case through ``cases.selectors.get_case_for_user(..., action="manage")``
first; the services check the policy again and raise ``ValidationError`` keyed by form field
(``agency``, ``level``, ``include_protected``, ``expires_at``, ``purpose``, or the form as a
whole) and leave the database as it was. Refusals are written to the access log by the view,
after the transaction has rolled back (a log row written inside it would roll back too).

The handling codes (``HANDLING_RULES``):

============  ==================================  =======================  ===================
code          who may grant a share               re-share by recipients   export by recipients
============  ==================================  =======================  ===================
RED           owner agency only, named agencies   never                    never
AMBER+STRICT  owner agency only                   never                    within own agency
AMBER         owner, manage-level recipients      recipient's country      yes
GREEN         owner, manage-level recipients      any agency               yes
CLEAR         owner, manage-level recipients      any agency               yes
============  ==================================  =======================  ===================
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casebook.models import Agency, Country, Notification
from cases import selectors, services
from cases.models import Case, CaseGroupObjectPermission, CaseShare

Code = Case.HandlingCode
Level = CaseShare.Level

# How far recipients may re-share a case.
NEVER = "never"
SAME_COUNTRY = "country"
ANY_AGENCY = "any"

# How far recipients may export from a case.
NO_EXPORT = "never"
OWN_AGENCY = "agency"
ANY_EXPORT = "any"


@dataclass(frozen=True)
class HandlingRule:
    """What a handling code allows; the ``*_text`` fields are the words shown in the UI."""

    code: str
    reshare: str
    export: str
    grant_text: Promise
    reshare_text: Promise
    export_text: Promise


HANDLING_RULES: dict[str, HandlingRule] = {
    Code.RED: HandlingRule(
        Code.RED,
        reshare=NEVER,
        export=NO_EXPORT,
        grant_text=gettext_lazy("The owner agency only, to agencies it names"),
        reshare_text=gettext_lazy("Never"),
        export_text=gettext_lazy("Never"),
    ),
    Code.AMBER_STRICT: HandlingRule(
        Code.AMBER_STRICT,
        reshare=NEVER,
        export=OWN_AGENCY,
        grant_text=gettext_lazy("The owner agency only"),
        reshare_text=gettext_lazy("Never"),
        export_text=gettext_lazy("Within their own agency"),
    ),
    Code.AMBER: HandlingRule(
        Code.AMBER,
        reshare=SAME_COUNTRY,
        export=ANY_EXPORT,
        grant_text=gettext_lazy("The owner agency, and recipients with the manage level"),
        reshare_text=gettext_lazy("Only to agencies of the recipient's own country"),
        export_text=gettext_lazy("Yes"),
    ),
    Code.GREEN: HandlingRule(
        Code.GREEN,
        reshare=ANY_AGENCY,
        export=ANY_EXPORT,
        grant_text=gettext_lazy("The owner agency, and recipients with the manage level"),
        reshare_text=gettext_lazy("To any agency on the platform"),
        export_text=gettext_lazy("Yes"),
    ),
    Code.CLEAR: HandlingRule(
        Code.CLEAR,
        reshare=ANY_AGENCY,
        export=ANY_EXPORT,
        grant_text=gettext_lazy("The owner agency, and recipients with the manage level"),
        reshare_text=gettext_lazy("To any agency on the platform"),
        export_text=gettext_lazy("Yes"),
    ),
}


# --- policy (pure) ---------------------------------------------------------------------------


def level_rank(level: str) -> int:
    """The position of a share level: view < contribute < manage."""
    return [str(known) for known in CaseShare.LEVEL_ORDER].index(level)


def may_grant(code: str, *, is_owner: bool, actor_level: str | None) -> bool:
    """Whether an agency may grant shares of a case with handling code ``code`` at all.

    The owner agency always may. A recipient (``actor_level`` is its own share's level) may
    only where the code lets recipients re-share, and only with the manage level.
    """
    if is_owner:
        return True
    return HANDLING_RULES[code].reshare != NEVER and actor_level == Level.MANAGE


def may_reshare_to(code: str, *, actor_agency: Agency, target_agency: Agency) -> bool:
    """Whether a recipient agency (``actor_agency``) may re-share to ``target_agency``."""
    reshare = HANDLING_RULES[code].reshare
    if reshare == SAME_COUNTRY:
        return actor_agency.country_id == target_agency.country_id
    return reshare == ANY_AGENCY


def may_export(user: Any, case: Case) -> bool:
    """Whether the user's agency may export from the case (call with a case the user may see).

    The owner agency always may. Recipients: never for RED; yes for AMBER, GREEN and CLEAR;
    for AMBER+STRICT this says yes to the export itself, and the export feature must keep
    what it produces inside the user's own agency (no sending to others, no public links).
    """
    member = getattr(user, "member", None)
    if member is None:
        return False
    if member.agency_id == case.owner_agency_id:
        return True
    return HANDLING_RULES[case.handling_code].export != NO_EXPORT


def may_revoke(agency: Agency | None, share: CaseShare) -> bool:
    """Whether a manager in ``agency`` may end ``share``: the owner agency's managers may end
    any share of their case; a recipient may end the shares it granted itself."""
    if agency is None:
        return False
    return agency.pk in (share.case.owner_agency_id, share.granted_by_agency_id)


def _active(at: datetime.datetime) -> Q:
    return Q(ended_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=at))


def code_change_conflicts(case: Case, new_code: str) -> list[CaseShare]:
    """The active shares of ``case`` that ``new_code`` would not allow: re-shares (granted by
    a recipient) that the new code forbids. Shares the owner agency granted never conflict."""
    if new_code not in HANDLING_RULES:
        return []

    def allowed(share: CaseShare) -> bool:
        return may_grant(new_code, is_owner=False, actor_level=Level.MANAGE) and may_reshare_to(
            new_code, actor_agency=share.granted_by_agency, target_agency=share.agency
        )

    return [share for share in _reshares(case) if not allowed(share)]


def _reshares(case: Case) -> list[CaseShare]:
    return list(
        CaseShare.objects.filter(_active(timezone.now()), case=case)
        .exclude(granted_by_agency_id=case.owner_agency_id)
        .select_related("agency__country", "granted_by_agency__country", "granted_by")
        .order_by("agency__country__name", "agency__name")
    )


# --- services ---------------------------------------------------------------------------------


def _attribute(instance: Any, actor: Any) -> None:
    # simple-history reads the acting user from here, so tasks record history too.
    instance._history_user = actor


def _agency_of(user: Any) -> Agency | None:
    member = getattr(user, "member", None)
    return member.agency if member is not None else None


def _require_manage(actor: Any, case: Case) -> Agency:
    agency = _agency_of(actor)
    if agency is None or "manage" not in selectors.case_permissions(actor, [case])[case.pk]:
        raise PermissionDenied(_("You may not manage the sharing of this case."))
    return agency


def _notify(*, agency: Agency, kind: str, case: Case | None, message: str) -> None:
    Notification.objects.create(agency=agency, kind=kind, case=case, message=message)


def _end(share: CaseShare, *, reason: str, actor: Any, at: datetime.datetime) -> None:
    """Close ``share`` and delete its grants (call inside a transaction)."""
    CaseGroupObjectPermission.objects.filter(share=share).delete()
    share.ended_at = at
    share.end_reason = reason
    share.ended_by = actor
    _attribute(share, actor)
    share.save(update_fields=["ended_at", "end_reason", "ended_by"])


def _check_share(
    *,
    case: Case,
    actor_agency: Agency,
    actor_level: str | None,
    agency: Agency | None,
    level: str,
    purpose: str,
    expires_at: datetime.datetime | None,
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
    if errors:
        raise ValidationError(errors)
    return agency


@transaction.atomic
def case_share(
    *,
    actor: Any,
    case: Case,
    agency: Agency | None,
    level: str,
    purpose: str,
    expires_at: datetime.datetime | None = None,
    include_protected: bool = False,
) -> CaseShare:
    """Share ``case`` with ``agency`` at ``level`` and notify that agency.

    The actor must hold the manage action on the case (else ``PermissionDenied``). Checks the
    handling-code rules and the input, raising ``ValidationError`` keyed by form field. An
    open share of the case with the same agency is replaced: it ends with reason "replaced"
    and a new share is created, so that the history shows both. A recipient may replace only
    a share its own agency granted. Locks the case row until commit.
    """
    actor_agency = _require_manage(actor, case)
    Case.objects.select_for_update().filter(pk=case.pk).first()
    now = timezone.now()
    is_owner = actor_agency.pk == case.owner_agency_id
    actor_level: str | None = None
    if not is_owner:
        own = CaseShare.objects.filter(_active(now), case=case, agency=actor_agency).first()
        if own is None:
            raise PermissionDenied(_("You may not manage the sharing of this case."))
        actor_level = own.level
    agency = _check_share(
        case=case,
        actor_agency=actor_agency,
        actor_level=actor_level,
        agency=agency,
        level=level,
        purpose=purpose,
        expires_at=expires_at,
        include_protected=include_protected,
        now=now,
    )
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
        reason = CaseShare.EndReason.REPLACED
        if previous.expires_at is not None and previous.expires_at <= now:
            reason = CaseShare.EndReason.EXPIRED
        _end(previous, reason=reason, actor=actor, at=now)
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
    _attribute(share, actor)
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
    _notify(
        agency=agency,
        kind=Notification.Kind.SHARE_GRANTED,
        case=case,
        message=_("%(agency)s shared case %(reference)s with you (%(level)s).")
        % {
            "agency": actor_agency.name,
            "reference": case.reference,
            "level": share.get_level_display(),
        },
    )
    return share


@transaction.atomic
def share_revoke(*, actor: Any, share: CaseShare) -> CaseShare:
    """End ``share`` at once: its grants are deleted in this transaction, so the recipient
    loses access on its next request. Notifies the recipient agency.

    Who may: a manager of the case in the owner agency, or in the agency that granted the
    share (else ``PermissionDenied``). An ended share is a ``ValidationError``.
    """
    case = share.case
    agency = _require_manage(actor, case)
    if not may_revoke(agency, share):
        raise PermissionDenied(_("Only the owner agency or the agency that granted a share "
                                 "may revoke it."))  # fmt: skip
    locked = CaseShare.objects.select_for_update().get(pk=share.pk)
    if locked.ended_at is not None:
        raise ValidationError(_("This share has already ended."))
    _end(share, reason=CaseShare.EndReason.REVOKED, actor=actor, at=timezone.now())
    _notify(
        agency=share.agency,
        kind=Notification.Kind.SHARE_REVOKED,
        case=None,
        message=_("%(agency)s ended your agency's access to case %(reference)s.")
        % {"agency": agency.name, "reference": case.reference},
    )
    return share


@transaction.atomic
def shares_expire(*, now: datetime.datetime | None = None) -> int:
    """Close the open shares whose expiry has passed (reason "expired", ended at their
    expiry), delete their grants and notify the owner and the recipient agencies. Returns
    how many it closed. Idempotent: a closed share is never touched again. Expired shares
    already gave no access (``live_grants`` checks the expiry); this is the clean-up."""
    now = now or timezone.now()
    due = list(
        # Lock the shares only (not the cases and agencies joined for the messages), and skip
        # those another run or a revoke holds: they are being ended already.
        CaseShare.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(ended_at__isnull=True, expires_at__lte=now)
        .select_related("case__owner_agency", "agency")
        .order_by("expires_at", "pk")
    )
    for share in due:
        _end(share, reason=CaseShare.EndReason.EXPIRED, actor=None, at=share.expires_at or now)
        values = {"agency": share.agency.name, "reference": share.case.reference}
        _notify(
            agency=share.case.owner_agency,
            kind=Notification.Kind.SHARE_EXPIRED,
            case=share.case,
            message=_("The share of case %(reference)s with %(agency)s has expired.") % values,
        )
        _notify(
            agency=share.agency,
            kind=Notification.Kind.SHARE_EXPIRED,
            case=None,
            message=_("Your agency's access to case %(reference)s has expired.") % values,
        )
    return len(due)


KEEP = "keep"
REVOKE = "revoke"


@transaction.atomic
def case_set_handling_code(
    *, actor: Any, case: Case, code: str, revoke_conflicting: bool | None = None
) -> list[CaseShare]:
    """Change the case's handling code; returns the shares the new code would not allow.

    Only members of the owner agency who may change the case may change its code (a recipient
    lowering it could widen its own re-sharing). Raising the code never revokes silently:
    when active shares conflict (``code_change_conflicts``) the caller passes the owner's
    decision, ``revoke_conflicting=True`` (they are revoked, recipients notified) or
    ``False`` (they are kept, and the history's change reason says so); ``None`` with
    conflicts is a ``ValidationError`` on ``conflicting_shares``.
    """
    agency = _agency_of(actor)
    actions = selectors.case_permissions(actor, [case])[case.pk]
    if agency is None or agency.pk != case.owner_agency_id or "change" not in actions:
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
        for share in conflicts:
            _end(share, reason=CaseShare.EndReason.REVOKED, actor=actor, at=now)
            _notify(
                agency=share.agency,
                kind=Notification.Kind.SHARE_REVOKED,
                case=None,
                message=_("%(agency)s ended your agency's access to case %(reference)s.")
                % {"agency": agency.name, "reference": case.reference},
            )
        reason = _("revoked %(count)d shares the new handling code does not allow") % {
            "count": len(conflicts)
        }
    elif conflicts:
        reason = _("kept %(count)d shares the new handling code would not allow") % {
            "count": len(conflicts)
        }
    case.handling_code = code
    case._change_reason = reason  # type: ignore[attr-defined]
    _attribute(case, actor)
    try:
        case.save(update_fields=["handling_code", "updated_at"])
    finally:
        # simple-history would otherwise give the reason to the case's next save too.
        del case._change_reason  # type: ignore[attr-defined]
    return conflicts


@transaction.atomic
def case_update_with_code(
    *,
    actor: Any,
    case: Case,
    handling_code: str,
    revoke_conflicting: bool | None = None,
    countries: Iterable[Country] | None = None,
    **changes: Any,
) -> Case:
    """What the case edit page saves: the core fields through ``services.case_update`` and,
    when it differs, the handling code through ``case_set_handling_code`` (with the owner's
    decision on conflicting shares), all in one transaction."""
    case = services.case_update(actor=actor, case=case, countries=countries, **changes)
    if handling_code != case.handling_code:
        case_set_handling_code(
            actor=actor, case=case, code=handling_code, revoke_conflicting=revoke_conflicting
        )
    return case
