"""Property test of sharing: for random sequences of shares, re-shares, replacements,
revokes, time passing and clean-up runs, what the selectors say each user may see and do
equals what a simple reference function computes from the share records alone.

The reference is written independently of the code under test: its level and role tables
are spelled out here, not imported.
"""

import datetime
from dataclasses import dataclass
from typing import Any

import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from casebook.models import Agency, Country
from cases import selectors, sharing
from cases.models import Case, CaseGroupObjectPermission, CaseShare
from tests.factories import AgencyFactory, make_case, make_member

START = datetime.datetime(2026, 6, 1, 8, 0, tzinfo=datetime.UTC)

# What each share level gives, and what each role allows (actions of ``case_permissions``).
LEVEL_ACTIONS = {
    "view": {"view"},
    "contribute": {"view", "contribute"},
    "manage": {"view", "contribute", "change", "manage"},
}
OWNER_ACTIONS = {"view", "contribute", "change", "manage", "view_protected"}
ROLE_ACTIONS = {
    "investigator": {"view", "contribute", "change", "view_protected"},
    "prosecutor": {"view", "contribute", "change", "view_protected"},
    "analyst": {"view"},
    "supervisor": {"view", "manage"},
}
ROLES = {"sup": "supervisor", "inv": "investigator", "ana": "analyst"}


@dataclass
class World:
    owner: Agency
    others: list[Agency]  # recipients: two in Costa Rica, one in Guatemala, one in Panama
    cases: list[Case]  # owned by ``owner``: one GREEN, one AMBER, one RED
    users: list[tuple[Any, str, Agency]]  # (user, role, agency)
    supervisors: dict[int, Any]  # agency pk -> a supervisor of that agency


def build_world() -> World:
    def agency(code: str, name: str) -> Agency:
        return AgencyFactory(country=Country.objects.get(code=code), name=name)

    owner = agency("PA", "Owner police")
    others = [
        agency("CR", "CR police"),
        agency("CR", "CR prosecution"),
        agency("GT", "GT police"),
        agency("PA", "PA prosecution"),
    ]
    users: list[tuple[Any, str, Agency]] = []
    supervisors: dict[int, Any] = {}
    # Every agency has a supervisor (who shares); other roles are spread over the agencies so
    # that each role is met as owner and as recipient, at a bearable number of queries.
    roles = [("inv",), ("inv", "ana"), ("ana",), ("inv",), ("inv",)]
    for index, each in enumerate([owner, *others]):
        for short in ("sup", *roles[index]):
            role = ROLES[short]
            user = make_member(each, role, username=f"{short}{index}")
            users.append((user, role, each))
            if role == "supervisor":
                supervisors[each.pk] = user
    author = next(user for user, role, each in users if each == owner and role == "investigator")
    cases = [
        make_case(author, handling_code=code, title=f"Case {code}")
        for code in (Case.HandlingCode.GREEN, Case.HandlingCode.AMBER, Case.HandlingCode.RED)
    ]
    return World(owner, others, cases, users, supervisors)


def reference_actions(world: World, now: datetime.datetime) -> dict[tuple[int, int], set[str]]:
    """(user pk, case pk) -> what the user's agency should hold on the case (as actions,
    before the user's roles apply), from the share rows alone."""
    shares = list(
        CaseShare.objects.values(
            "case_id", "agency_id", "level", "include_protected", "ended_at", "expires_at"
        )
    )
    expected: dict[tuple[int, int], set[str]] = {}
    for user, _role, agency in world.users:
        for case in world.cases:
            if agency.pk == case.owner_agency_id:
                granted = set(OWNER_ACTIONS)
            else:
                granted = set()
                for row in shares:
                    live = row["ended_at"] is None and (
                        row["expires_at"] is None or row["expires_at"] > now
                    )
                    if live and row["case_id"] == case.pk and row["agency_id"] == agency.pk:
                        granted |= LEVEL_ACTIONS[row["level"]]
                        if row["include_protected"]:
                            granted.add("view_protected")
            expected[(user.pk, case.pk)] = granted
    return expected


def check(world: World, now: datetime.datetime) -> None:
    expected = reference_actions(world, now)
    case_ids = {case.pk for case in world.cases}
    for user, role, _agency in world.users:
        # Visibility is the agency's view grant; every role includes viewing.
        should_see = {pk for pk in case_ids if "view" in expected[(user.pk, pk)]}
        assert set(selectors.case_list(user).values_list("pk", flat=True)) == should_see, (
            user.username
        )
        got = selectors.case_permissions(user, world.cases)
        for case in world.cases:
            want = expected[(user.pk, case.pk)] & ROLE_ACTIONS[role]
            assert got[case.pk] == want, (user.username, case.handling_code)
    # At most one open share per case and agency; ended shares keep no grants.
    open_pairs = list(
        CaseShare.objects.filter(ended_at__isnull=True).values_list("case_id", "agency_id")
    )
    assert len(open_pairs) == len(set(open_pairs))
    assert not CaseGroupObjectPermission.objects.filter(share__ended_at__isnull=False).exists()
    if CaseShare.objects.filter(ended_at=None, expires_at__lte=now).exists():
        event("an expired share not yet closed")


def check_policy(world: World) -> None:
    """Every open re-share is one the case's handling code allows (codes do not change in
    these sequences), and recipients never shared protected identities."""
    reshares = (
        CaseShare.objects.filter(ended_at__isnull=True)
        .exclude(granted_by_agency=world.owner)
        .select_related("case", "agency", "granted_by_agency")
    )
    for share in reshares:
        code = share.case.handling_code
        assert sharing.HANDLING_RULES[code].reshare != sharing.NEVER
        if code == Case.HandlingCode.AMBER:
            assert share.agency.country_id == share.granted_by_agency.country_id
        assert not share.include_protected


# What the rules draw. Agency index 0-3 is a recipient; 4 is the owner agency (refused).
AGENCIES = st.sampled_from([0, 1, 2, 3, 0, 1, 2, 3, 4])
CASES = st.integers(min_value=0, max_value=2)
LEVELS = st.sampled_from(["view", "contribute", "manage"])
HOURS = st.sampled_from([None, None, 1, 1, 2, 3, 0, -1])  # expiry, from now
PICKS = st.integers(min_value=0, max_value=20)


class Sharing(RuleBasedStateMachine):
    """One run: a sequence of rules on ``world`` (built once by the test), undone at the end
    by rolling back to a savepoint. The clock is frozen and moves only by ``advance``."""

    world: World

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.now = START
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()

    def teardown(self) -> None:
        self.traveller.stop()
        transaction.savepoint_rollback(self.savepoint)

    def _share(self, actor_agency: Agency, case: Case, to: int, level: str,
               hours: int | None, protected: bool) -> None:  # fmt: skip
        world = self.world
        before = CaseShare.objects.count(), CaseGroupObjectPermission.objects.count()
        try:
            created = sharing.case_share(
                actor=world.supervisors[actor_agency.pk],
                case=case,
                agency=agency_at(world, to),
                level=level,
                purpose="property test",
                expires_at=None if hours is None else self.now + datetime.timedelta(hours=hours),
                include_protected=protected,
            )
        except (ValidationError, PermissionDenied):
            event("share refused")
            assert (CaseShare.objects.count(), CaseGroupObjectPermission.objects.count()) == before
        else:
            event("re-share granted" if created.is_reshare else "share granted")

    @initialize(
        first=st.sampled_from([0, 1, 2, 3]),
        second=st.sampled_from([0, 1, 2, 3]),
        hours=st.sampled_from([None, 1, 3]),
    )
    def seed(self, first: int, second: int, hours: int | None) -> None:
        """Start with manage-level shares (the first may expire), so that re-shares happen."""
        owner = self.world.owner
        self._share(owner, self.world.cases[0], first, "manage", hours, False)
        self._share(owner, self.world.cases[1], second, "manage", None, False)

    @rule(
        who=st.sampled_from(["owner"] * 5 + [0, 1, 2, 3]),
        case=CASES,
        to=AGENCIES,
        level=LEVELS,
        hours=HOURS,
        protected=st.booleans(),
    )
    def share(
        self, who: Any, case: int, to: int, level: str, hours: int | None, protected: bool
    ) -> None:
        """The owner's supervisor, or a recipient's (refused unless it may manage), shares."""
        actor_agency = self.world.owner if who == "owner" else self.world.others[who]
        self._share(actor_agency, self.world.cases[case], to, level, hours, protected)

    def _managers(self) -> list[CaseShare]:
        now = self.now
        return list(
            CaseShare.objects.filter(ended_at=None, level="manage")
            .exclude(expires_at__lte=now)
            .select_related("case", "agency")
            .order_by("pk")
        )

    @precondition(lambda self: bool(self._managers()))
    @rule(
        pick=PICKS,
        to=AGENCIES,
        level=LEVELS,
        hours=HOURS,
        protected=st.sampled_from([False, False, False, True]),  # refused for recipients
    )
    def reshare(self, pick: int, to: int, level: str, hours: int | None, protected: bool) -> None:
        """A recipient holding the manage level on a case re-shares it."""
        managers = self._managers()
        holder = managers[pick % len(managers)]
        self._share(holder.agency, holder.case, to, level, hours, protected)

    @precondition(lambda self: CaseShare.objects.filter(ended_at=None).exists())
    @rule(pick=PICKS, by=st.sampled_from(["owner", "granter"]))
    def revoke(self, pick: int, by: str) -> None:
        """The owner, or the agency that granted it, revokes one of the open shares."""
        open_shares = list(
            CaseShare.objects.filter(ended_at=None).select_related("case", "agency").order_by("pk")
        )
        share = open_shares[pick % len(open_shares)]
        actor = self.world.supervisors[
            self.world.owner.pk if by == "owner" else share.granted_by_agency_id
        ]
        try:
            sharing.share_revoke(actor=actor, share=share)
        except PermissionDenied:
            # The granter has lost its own manage access since; only the owner may now.
            assert by == "granter"
            assert "manage" not in selectors.case_permissions(actor, [share.case])[share.case.pk]
            event("revoke refused")
        else:
            event("share revoked")

    @rule(minutes=st.integers(min_value=10, max_value=240))
    def advance(self, minutes: int) -> None:
        self.now += datetime.timedelta(minutes=minutes)
        self.clock.move_to(self.now)

    @rule()
    def expire(self) -> None:
        """The periodic clean-up runs."""
        if sharing.shares_expire():
            event("expired shares closed")

    @invariant()
    def selectors_match_the_reference(self) -> None:
        check(self.world, self.now)
        check_policy(self.world)


def agency_at(world: World, index: int) -> Agency:
    return world.others[index] if index < len(world.others) else world.owner


def test_what_the_selectors_return_matches_the_share_records(db: Any) -> None:
    Sharing.world = build_world()
    run_state_machine_as_test(
        Sharing,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
