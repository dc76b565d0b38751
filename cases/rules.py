"""The pure rules of sharing and matching: what a handling code (TLP 2.0) allows, which
agency may grant, re-share, export or revoke a share, and which cross-agency matches may be
hits. No database access: each function decides from the values it is given, so every
channel reads the same rules and they are tested without a database.

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

from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from casebook.models import Agency
from cases.models import Case, CaseShare

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


# The words shown for each value of the table, each written once.
OWNER_NAMED = gettext_lazy("The owner agency only, to agencies it names")
OWNER_ONLY = gettext_lazy("The owner agency only")
OWNER_AND_MANAGERS = gettext_lazy("The owner agency, and recipients with the manage level")
RESHARE_TEXTS: dict[str, Promise] = {
    NEVER: gettext_lazy("Never"),
    SAME_COUNTRY: gettext_lazy("Only to agencies of the recipient's own country"),
    ANY_AGENCY: gettext_lazy("To any agency on the platform"),
}
EXPORT_TEXTS: dict[str, Promise] = {
    NO_EXPORT: gettext_lazy("Never"),
    OWN_AGENCY: gettext_lazy("Within their own agency"),
    ANY_EXPORT: gettext_lazy("Yes"),
}


def _rule(code: str, *, grant: Promise, reshare: str, export: str) -> HandlingRule:
    return HandlingRule(code, reshare, export, grant, RESHARE_TEXTS[reshare], EXPORT_TEXTS[export])


HANDLING_RULES: dict[str, HandlingRule] = {
    rule.code: rule
    for rule in (
        _rule(Code.RED, grant=OWNER_NAMED, reshare=NEVER, export=NO_EXPORT),
        _rule(Code.AMBER_STRICT, grant=OWNER_ONLY, reshare=NEVER, export=OWN_AGENCY),
        _rule(Code.AMBER, grant=OWNER_AND_MANAGERS, reshare=SAME_COUNTRY, export=ANY_EXPORT),
        _rule(Code.GREEN, grant=OWNER_AND_MANAGERS, reshare=ANY_AGENCY, export=ANY_EXPORT),
        _rule(Code.CLEAR, grant=OWNER_AND_MANAGERS, reshare=ANY_AGENCY, export=ANY_EXPORT),
    )
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


def may_export(user: User, case: Case) -> bool:
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


OWNER_DECIDES = Agency.ProtectedMatchPolicy.OWNER_DECIDES


def may_be_hit(first: tuple[bool, int, str], second: tuple[bool, int, str]) -> bool:
    """Whether two entities, each as (protected, owner agency id, that agency's protected
    match policy), may be a hit: always within one agency; between two agencies, not when
    both are protected, and when one is, only if its agency's policy allows it."""
    (first_protected, first_agency, first_policy) = first
    (second_protected, second_agency, second_policy) = second
    if first_agency == second_agency:
        return True
    if first_protected and second_protected:
        return False
    if first_protected:
        return first_policy == OWNER_DECIDES
    if second_protected:
        return second_policy == OWNER_DECIDES
    return True


# --- stored keys, in words, and their limits ---------------------------------------------

# What matched, in words, by the prefix of the key (``cases.matchkeys.KEY_KINDS``).
KEY_KIND_LABELS = {
    "phone": gettext_lazy("phone number"),
    "document": gettext_lazy("identity document"),
    "account": gettext_lazy("bank account or wallet"),
    "plate": gettext_lazy("vehicle plate"),
    "email": gettext_lazy("e-mail address"),
    "handle": gettext_lazy("online handle"),
    "name": gettext_lazy("name"),
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
    """More distinct agencies than this holding a key make it common."""
    return int(settings.CASEBOOK_HIT_KEY_LIMIT)


def max_keys_per_entity() -> int:
    return int(settings.CASEBOOK_HIT_MAX_KEYS_PER_ENTITY)


def check_key_count(keys: Collection[str]) -> None:
    """Refuse an entity with more than ``CASEBOOK_HIT_MAX_KEYS_PER_ENTITY`` distinct match
    keys (``ValidationError`` on the aliases field, the only one that adds keys by the
    line): each key is a guess tested against every other agency's cases."""
    limit, count = max_keys_per_entity(), len(set(keys))
    if count > limit:
        message = gettext(
            "At most %(limit)d names and aliases per person: this one has %(count)d. "
            "Keep the names you need to match, or record the others in the description."
        ) % {"limit": limit, "count": count}
        raise ValidationError({"aliases": message})
