"""The access rules of the leak sweep: for every URL pattern (``RULES``), the status the
oracle (``tests.leaks.world.Oracle``) expects for a user on a target, for a GET and for a
POST by someone who may not act. A pattern missing from ``RULES`` makes
``test_coverage.test_every_url_pattern_is_covered`` fail.

Per-page rules (what a page may name) are in ``tests.leaks.rules``."""

from collections.abc import Callable
from dataclasses import dataclass

from cases.models import Case, CommonKey, Hit, MatchKey
from tests.leaks.targets import Target
from tests.leaks.world import CASES, LIVE, World

OK, FOUND, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 302, 403, 404, 405


class Unchanged(frozenset[int]):
    """Any of these statuses, and the database unchanged: a request that is answered (e.g.
    with a redirect) but must have no effect."""


Expect = int | frozenset[int]
RuleFn = Callable[[World, str, Target], Expect]


@dataclass(frozen=True)
class Rule:
    """``get``: the status of a GET; ``post``: the status of a POST by someone who may not
    act (the refusal), ``None`` for views that refuse POST (405). A user for whom ``get``
    gives 200 (or ``post`` 302) may act."""

    get: RuleFn
    post: RuleFn | None = None


def case_action(action: str, *, then: Expect = OK) -> RuleFn:
    """404 for a case the user may not see (or that does not exist); 403 for an action their
    agency's grant or their role does not allow; 404 for an object not in that case."""

    def rule(world: World, username: str, target: Target) -> Expect:
        oracle = world.oracle
        assert oracle is not None
        if target.case is None or not oracle.may(username, "view", target.case):
            return NOT_FOUND
        if not oracle.may(username, action, target.case):
            # Whether the action or the object's absence is found first, nothing is told.
            return FORBIDDEN if target.exists else frozenset({FORBIDDEN, NOT_FOUND})
        if not target.exists:
            return NOT_FOUND
        return then

    return rule


# The flags of the world's protected relationships and movements (``world.records``,
# ``WorldBuilder.edits``): by a protected end, place or facilitator.
PROTECTED_RECORD_FLAGS = {"relationship": {"P", "R"}, "movement": {"P", "F", "S"}}


def record_is_protected(world: World, target: Target) -> bool:
    if target.obj is None:
        return False
    if target.obj_kind == "entity":
        return world.entity_protected.get(target.obj.pk, False)
    flag = target.label.rsplit("/", 1)[-1].split("-", 1)[0]
    return flag in PROTECTED_RECORD_FLAGS.get(target.obj_kind, set())


def protected_record_action(action: str) -> RuleFn:
    """As ``case_action``; and editing or removing a protected entity, or a relationship or
    movement that involves one, requires seeing protected identities (issue 7 §1): 403."""
    base = case_action(action)

    def rule(world: World, username: str, target: Target) -> Expect:
        status = base(world, username, target)
        if status != OK or not record_is_protected(world, target):
            return status
        assert world.oracle is not None and target.case is not None
        if not world.oracle.may(username, "view_protected", target.case):
            return FORBIDDEN
        return status

    return rule


def entity_add_rule(world: World, username: str, target: Target) -> Expect:
    if not target.exists and target.obj_kind != "kind":
        # An unknown kind is a 404 before anything is looked up.
        return NOT_FOUND
    return case_action("contribute")(world, username, target)


def evidence_download_rule(world: World, username: str, target: Target) -> Expect:
    """A protected evidence file's content is only for those who may see protected
    identities; to the others the file is listed under a pseudonym and its content is "not
    found" (404), as anything they may not see."""
    status = case_action("view")(world, username, target)
    evidence = target.obj
    if status == OK and evidence is not None and evidence.protected:
        assert world.oracle is not None and target.case is not None
        if not world.oracle.may(username, "view_protected", target.case):
            return NOT_FOUND
    return status


def export_rule(world: World, username: str, target: Target) -> Expect:
    """The JSON export of a case: as the case page for those who may not see it (404); for
    those who may, 403 where the handling code forbids their agency to export it (a recipient
    of a RED case)."""
    status = case_action("view")(world, username, target)
    assert world.oracle is not None
    if (
        status == OK
        and target.case is not None
        and not world.oracle.may_export(username, target.case)
    ):
        return FORBIDDEN
    return status


def signed_in(world: World, username: str, target: Target) -> Expect:
    return OK


def global_perm(permission: str) -> RuleFn:
    def rule(world: World, username: str, target: Target) -> Expect:
        assert world.oracle is not None
        return OK if world.oracle.has_global(username, permission) else FORBIDDEN

    return rule


def member_rule(world: World, username: str, target: Target) -> Expect:
    """Supervisors manage their own agency's members: another agency's is a 404."""
    assert world.oracle is not None
    if not world.oracle.has_global(username, "manage_members"):
        return FORBIDDEN
    persona = world.personas[username]
    if not target.exists or target.obj.agency != persona.agency:
        return NOT_FOUND
    return OK


def method_not_allowed(world: World, username: str, target: Target) -> Expect:
    return NOT_ALLOWED


def refused(rule: RuleFn) -> RuleFn:
    """The POST twin of a GET rule: who may GET the page may post it (a redirect, or the form
    again with errors)."""

    def post_rule(world: World, username: str, target: Target) -> Expect:
        status = rule(world, username, target)
        return frozenset({FOUND, OK}) if status == OK else status

    return post_rule


def _editable(rule: RuleFn) -> Rule:
    return Rule(get=rule, post=refused(rule))


def share_rule(world: World, username: str, target: Target) -> Expect:
    """Managing a share: the case's managers; a share of another case is a 404."""
    return case_action("manage")(world, username, target)


# Handling codes under which only the owner agency may grant shares (the TLP table).
OWNER_ONLY_GRANTS = (Case.HandlingCode.RED, Case.HandlingCode.AMBER_STRICT)


def share_post_rule(world: World, username: str, target: Target) -> Expect:
    """Sharing: the case's managers; a manage-level recipient of a RED or AMBER+STRICT case
    sees the form but may not grant (the form again, with the reason; nothing changes)."""
    status = refused(share_rule)(world, username, target)
    if status != frozenset({FOUND, OK}) or target.case is None:
        return status
    owner, handling = CASES[target.case]
    if handling in OWNER_ONLY_GRANTS and world.personas[username].agency != owner:
        return Unchanged({OK})
    return status


def share_revoke_rule(world: World, username: str, target: Target) -> Expect:
    """The revoke page of a share: the case's managers see it; another case's share is a
    404."""
    return case_action("manage")(world, username, target)


def share_revoke_post_rule(world: World, username: str, target: Target) -> Expect:
    """Revoking: the owner's managers may end any share, a recipient's only those it granted
    (else 403); an ended share cannot be ended again (refused, nothing changes)."""
    status = case_action("manage")(world, username, target)
    if status != OK:
        return status
    spec = target.obj
    if world.personas[username].agency not in (CASES[spec.case][0], spec.granted_by):
        return FORBIDDEN
    if spec.state != LIVE:
        return Unchanged({FOUND, NOT_FOUND})
    return FOUND


def told_of_hit(world: World, username: str, hit: Hit) -> bool:
    """Whether the user is told of the hit (the issue: "if the member may see the other case,
    the match is shown as a link ...; if not, both owner agencies get a hit notification";
    "matches on protected identities notify only members who may see protected
    identities"): their agency owns one side's case, they see that case and its entity
    unmasked, and they may not see the other case."""
    oracle = world.oracle
    assert oracle is not None
    persona = world.personas[username]
    sides = ((hit.case_id, hit.entity_id, hit.other_case_id, hit.other_id),
             (hit.other_case_id, hit.other_id, hit.case_id, hit.entity_id))  # fmt: skip
    for case_id, entity_id, other_case_id, other_id in sides:
        code, other = world.case_code(case_id), world.case_code(other_case_id)
        protected = world.entity_protected.get(entity_id, False)
        if (
            # Issue 7 §3: no hit on the other side's protected identity (the agencies'
            # policies in this world do not allow it): it would tell its value.
            not world.entity_protected.get(other_id, False)
            and CASES[code][0] == persona.agency
            and oracle.may(username, "view", code)
            and (not protected or oracle.may(username, "view_protected", code))
            and not oracle.may(username, "view", other)
        ):
            return True
    return False


def hit_dismiss_rule(world: World, username: str, target: Target) -> Expect:
    if not target.exists or not told_of_hit(world, username, target.obj):
        return NOT_FOUND
    return FOUND


def common_key_mark_rule(world: World, username: str, target: Target) -> Expect:
    """Supervisors confirm the common keys their agency's cases hold (through an entity they
    may see unmasked); others' keys are a 404; non-supervisors are refused (403)."""
    persona = world.personas[username]
    if "supervisor" not in persona.roles or not persona.active or persona.agency is None:
        return FORBIDDEN
    if not target.exists or not _agency_holds_key(world, username, target.obj):
        return NOT_FOUND
    return FOUND


def _agency_holds_key(world: World, username: str, key: CommonKey) -> bool:
    assert world.oracle is not None
    agency = world.personas[username].agency
    for entity_id, case_id in MatchKey.objects.filter(key=key.key).values_list(
        "entity_id", "case_id"
    ):
        code = world.case_code(case_id)
        protected = world.entity_protected.get(entity_id, False)
        if CASES[code][0] == agency and (
            not protected or world.oracle.may(username, "view_protected", code)
        ):
            return True
    return False


def notifications_post_rule(world: World, username: str, target: Target) -> Expect:
    """Marking as read the notification ``post_notification`` names (one to Costa Rica's
    police): only its agency's members change anything; for the others it is no notification
    of theirs, and nothing changes."""
    persona = world.personas[username]
    return FOUND if persona.agency == "CRPOL" else Unchanged({FOUND})


def member_action_rule(world: World, username: str, target: Target) -> Expect:
    """A supervisor's action on a member (unlock, two-factor reset): their own agency's
    members only (another's is a 404, a non-supervisor's request a 403). On a member who is
    neither locked nor has an authenticator it changes nothing."""
    status = member_rule(world, username, target)
    return Unchanged({FOUND}) if status == OK else status


def answered_unchanged(*statuses: int) -> RuleFn:
    """Any signed-in user gets an answer (``statuses``) that changes nothing: a form of
    their own sent with a wrong code, a second step they do not owe."""

    def rule(world: World, username: str, target: Target) -> Expect:
        return Unchanged(set(statuses))

    return rule


def redirected(world: World, username: str, target: Target) -> Expect:
    return FOUND


def supervisor_page(world: World, username: str, target: Target) -> Expect:
    persona = world.personas[username]
    return OK if persona.active and "supervisor" in persona.roles else FORBIDDEN


# Pattern name -> its access rule. A pattern missing here fails the coverage test.
RULES: dict[str, Rule] = {
    "dashboard": Rule(get=signed_in),
    "notifications": Rule(get=signed_in, post=notifications_post_rule),
    "members": Rule(get=global_perm("manage_members")),
    "member_add": _editable(global_perm("manage_members")),
    "member_edit": _editable(member_rule),
    "access_log": Rule(get=supervisor_page),
    # A supervisor's own agency's contact point and protected-match policy.
    "agency_settings": _editable(global_perm("manage_members")),
    "access_log_export": Rule(get=supervisor_page),
    "cases:list": Rule(get=signed_in),
    "cases:create": _editable(global_perm("add_case")),
    "cases:hits": Rule(get=signed_in),
    "cases:hit_dismiss": Rule(get=method_not_allowed, post=hit_dismiss_rule),
    "cases:common_keys": Rule(get=supervisor_page),
    "cases:common_key_mark": Rule(get=method_not_allowed, post=common_key_mark_rule),
    "cases:common_key_restore": Rule(get=method_not_allowed, post=common_key_mark_rule),
    # Accounts and sign-in (issue 7 §2): one's own password and second factor; a
    # supervisor's actions on their members.
    # Posted with a wrong current password (a right one would end the client's session):
    # the form again, nothing changed.
    "account_password_change": Rule(get=signed_in, post=answered_unchanged(OK)),
    # Two-factor sign-in is off in the sweep (force_login): the second step is not owed.
    "signin:two_factor_verify": Rule(get=redirected, post=answered_unchanged(FOUND)),
    # Posted with a wrong code: the form again, no authenticator confirmed.
    "signin:two_factor_setup": Rule(get=signed_in, post=answered_unchanged(OK)),
    "signin:security": Rule(get=signed_in),
    "signin:recovery_codes": Rule(get=method_not_allowed, post=answered_unchanged(OK)),
    "signin:member_unlock": Rule(get=method_not_allowed, post=member_action_rule),
    "signin:member_two_factor_reset": Rule(get=method_not_allowed, post=member_action_rule),
    "cases:detail": Rule(get=case_action("view")),
    "cases:edit": _editable(case_action("change")),
    "cases:timeline": Rule(get=case_action("view")),
    "cases:history": Rule(get=case_action("view")),
    "cases:export": Rule(get=export_rule),
    "cases:entity_add": _editable(entity_add_rule),
    "cases:entity": Rule(get=case_action("view")),
    "cases:entity_edit": _editable(protected_record_action("contribute")),
    "cases:entity_remove": _editable(protected_record_action("contribute")),
    "cases:relationship_add": _editable(case_action("contribute")),
    "cases:relationship_remove": _editable(protected_record_action("contribute")),
    "cases:movement_add": _editable(case_action("contribute")),
    "cases:movement_remove": _editable(protected_record_action("contribute")),
    "cases:note_add": _editable(case_action("contribute")),
    "cases:evidence_add": _editable(case_action("contribute")),
    "cases:evidence": Rule(get=case_action("view")),
    "cases:evidence_download": Rule(get=evidence_download_rule),
    "cases:shares": Rule(get=share_rule, post=share_post_rule),
    "cases:share_revoke": Rule(get=share_revoke_rule, post=share_revoke_post_rule),
}
