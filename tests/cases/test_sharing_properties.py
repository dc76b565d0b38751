"""Property test of sharing: for random sequences of shares, re-shares, replacements,
revokes, time passing and clean-up runs, what the selectors say each user may see and do
equals what a simple reference model of the rules says.

The reference is written independently of the code under test: its level and role tables
are spelled out here, not imported, and it keeps its own records of the shares, changed by
the rules as the README states them (a re-share never outlives the share it came from and
ends with it), never read back from the database. The database's shares must then match the
reference's records, ends and expiries included.
"""

import datetime
from dataclasses import dataclass
from typing import Any, cast

import time_machine
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
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
from cases import rules, selectors, services
from cases.models import Case, CaseGroupObjectPermission, CaseShare
from cases.selectors import case_access
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
        return cast(Agency, AgencyFactory(country=Country.objects.get(code=code), name=name))

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


@dataclass
class Record:
    """One share as the rules say it is."""

    pk: int  # the ``CaseShare`` it stands for
    case: int
    agency: int
    granter: int
    level: str
    protected: bool
    expires: datetime.datetime | None
    ended: bool = False

    def live(self, now: datetime.datetime) -> bool:
        return not self.ended and (self.expires is None or self.expires > now)


def earliest(*moments: datetime.datetime | None) -> datetime.datetime | None:
    """The earliest of the moments; ``None`` is "never", later than any."""
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


class Reference:
    """The sharing rules over plain records, for the owner agency ``owner``.

    - A share's grants live until it ends or expires.
    - A re-share comes from its granting agency's open share of the case. It never outlives
      it: without an expiry it gets that one's, and replacing that share with an earlier
      expiry brings it forward (never back). When the share it came from ends (revoked,
      expired and cleaned up, replaced after it expired, replaced below the manage level),
      it ends, and so do those that came from it.
    - The owner agency holds no share: nothing it granted ends because another share did.
    """

    def __init__(self, owner: int) -> None:
        self.owner = owner
        self.records: list[Record] = []

    def open_share(self, case: int, agency: int) -> Record | None:
        return next(
            (r for r in self.records if not r.ended and r.case == case and r.agency == agency),
            None,
        )

    def came_from(self, case: int, agency: int) -> list[Record]:
        """Every open share that came, directly or down a chain, from ``agency``'s share."""
        found: dict[int, Record] = {}
        granters = [] if agency == self.owner else [agency]
        while granters:
            granter = granters.pop()
            for record in self.records:
                below = not record.ended and record.case == case and record.granter == granter
                if below and record.pk not in found:
                    found[record.pk] = record
                    granters.append(record.agency)
        return list(found.values())

    def end(self, record: Record) -> None:
        record.ended = True
        for below in self.came_from(record.case, record.agency):
            below.ended = True

    def expiry_limit(self, case: int, actor: int) -> datetime.datetime | None:
        source = None if actor == self.owner else self.open_share(case, actor)
        return source.expires if source is not None else None

    def grant(
        self,
        *,
        pk: int,
        case: int,
        actor: int,
        to: int,
        level: str,
        protected: bool,
        requested: datetime.datetime | None,
        now: datetime.datetime,
    ) -> None:
        expires = earliest(requested, self.expiry_limit(case, actor))
        previous = self.open_share(case, to)
        replaced = previous is not None and previous.live(now)
        if previous is not None:
            if replaced:
                previous.ended = True
            else:
                self.end(previous)  # it had expired: what came from it went with it
        self.records.append(Record(pk, case, to, actor, level, protected, expires))
        if replaced and level != "manage":
            for below in self.came_from(case, to):
                below.ended = True
        elif replaced:
            for below in self.came_from(case, to):
                below.expires = earliest(below.expires, expires)

    def revoke(self, pk: int) -> None:
        self.end(next(r for r in self.records if r.pk == pk))

    def clean_up(self, now: datetime.datetime) -> None:
        for record in list(self.records):
            if not record.ended and not record.live(now):
                self.end(record)

    def actions(self, world: World, now: datetime.datetime) -> dict[tuple[int, int], set[str]]:
        """(user pk, case pk) -> what the user's agency should hold on the case (as actions,
        before the user's roles apply)."""
        expected: dict[tuple[int, int], set[str]] = {}
        for user, _role, agency in world.users:
            for case in world.cases:
                if agency.pk == case.owner_agency_id:
                    granted = set(OWNER_ACTIONS)
                else:
                    granted = set()
                    for record in self.records:
                        if record.live(now) and (record.case, record.agency) == (
                            case.pk,
                            agency.pk,
                        ):
                            granted |= LEVEL_ACTIONS[record.level]
                            if record.protected:
                                granted.add("view_protected")
                expected[(user.pk, case.pk)] = granted
        return expected


def check(world: World, reference: Reference, now: datetime.datetime) -> None:
    expected = reference.actions(world, now)
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
    # The stored shares are the reference's: the same ends, the same expiries.
    stored = {
        pk: (ended_at is not None, expires_at)
        for pk, ended_at, expires_at in CaseShare.objects.values_list(
            "pk", "ended_at", "expires_at"
        )
    }
    assert stored == {r.pk: (r.ended, r.expires) for r in reference.records}
    # At most one open share per case and agency; ended shares keep no grants.
    open_pairs = list(
        CaseShare.objects.filter(ended_at__isnull=True).values_list("case_id", "agency_id")
    )
    assert len(open_pairs) == len(set(open_pairs))
    assert not CaseGroupObjectPermission.objects.filter(share__ended_at__isnull=False).exists()
    if CaseShare.objects.filter(ended_at=None, expires_at__lte=now).exists():
        event("an expired share not yet closed")
    if any(r.ended and r.granter != world.owner.pk for r in reference.records):
        event("a re-share ended")


def check_policy(world: World) -> None:
    """Every open re-share is one the case's handling code allows (codes do not change in
    these sequences), recipients never shared protected identities, and every re-share that
    works comes from a share of its granting agency that works too, at the manage level."""
    now = timezone.now()
    reshares = (
        CaseShare.objects.filter(ended_at__isnull=True)
        .exclude(granted_by_agency=world.owner)
        .select_related("case", "agency", "granted_by_agency")
    )
    for share in reshares:
        code = share.case.handling_code
        assert rules.HANDLING_RULES[code].reshare != rules.NEVER
        if code == Case.HandlingCode.AMBER:
            assert share.agency.country_id == share.granted_by_agency.country_id
        assert not share.include_protected
        if share.is_active(now):
            source = CaseShare.objects.get(
                case=share.case, agency=share.granted_by_agency, ended_at=None
            )
            assert source.is_active(now) and source.level == "manage"
            assert source.expires_at is None or (
                share.expires_at is not None and share.expires_at <= source.expires_at
            )


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
        self.reference = Reference(self.world.owner.pk)
        self.now = START
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()

    def teardown(self) -> None:
        self.traveller.stop()
        transaction.savepoint_rollback(self.savepoint)

    def _share(self, actor_agency: Agency, case: Case, to: int, level: str,
               hours: int | None, protected: bool,
               requested: datetime.datetime | None = None) -> None:  # fmt: skip
        """Share as the rules say, and keep the reference's records; the expiry is ``hours``
        from now, or ``requested``."""
        world = self.world
        before = CaseShare.objects.count(), CaseGroupObjectPermission.objects.count()
        if hours is not None:
            requested = self.now + datetime.timedelta(hours=hours)
        limit = self.reference.expiry_limit(case.pk, actor_agency.pk)
        outlasts = bool(limit and requested and self.now < requested and limit < requested)
        try:
            created = services.case_share(
                access=case_access(world.supervisors[actor_agency.pk], case),
                agency=agency_at(world, to),
                level=level,
                purpose="property test",
                expires_at=requested,
                include_protected=protected,
            )
        except ValidationError as refusal:
            event("share refused")
            assert (CaseShare.objects.count(), CaseGroupObjectPermission.objects.count()) == before
            errors = getattr(refusal, "error_dict", {NON_FIELD_ERRORS: []})
            if outlasts and NON_FIELD_ERRORS not in errors:
                event("re-share refused for outlasting the share it came from")
                assert "expires_at" in errors
        except PermissionDenied:
            event("share refused")
            assert (CaseShare.objects.count(), CaseGroupObjectPermission.objects.count()) == before
        else:
            assert not outlasts, "a re-share was granted beyond the share it came from"
            event("re-share granted" if created.is_reshare else "share granted")
            self.reference.grant(
                pk=created.pk,
                case=case.pk,
                actor=actor_agency.pk,
                to=created.agency_id,
                level=level,
                protected=protected,
                requested=requested,
                now=self.now,
            )

    @initialize(
        first=st.sampled_from([0, 1, 2, 3]),
        second=st.sampled_from([0, 1, 2, 3]),
        hours=st.sampled_from([None, 1, 3]),
        onward=st.sampled_from([0, 1, 2, 3, None]),
    )
    def seed(self, first: int, second: int, hours: int | None, onward: int | None) -> None:
        """Start with manage-level shares (the first may expire) and, mostly, a re-share of
        the first (GREEN) case at the manage level, so that chains of re-shares happen."""
        owner, cases, others = self.world.owner, self.world.cases, self.world.others
        self._share(owner, cases[0], first, "manage", hours, False)
        self._share(owner, cases[1], second, "manage", None, False)
        if onward is not None and onward != first:
            self._share(others[first], cases[0], onward, "manage", None, False)

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
        free=st.sampled_from([True, True, True, False]),
        level=LEVELS,
        hours=HOURS,
        beyond=st.sampled_from([None, None, 0, 1]),
        protected=st.sampled_from([False, False, False, True]),  # refused for recipients
    )
    def reshare(
        self,
        pick: int,
        to: int,
        free: bool,
        level: str,
        hours: int | None,
        beyond: int | None,
        protected: bool,
    ) -> None:
        """A recipient holding the manage level on a case re-shares it: mostly (``free``) to
        an agency the owner has not shared it with, so that chains of re-shares grow; with an
        expiry ``hours`` from now or, if its own share expires, ``beyond`` hours after that
        (0: the same expiry, allowed; 1: later, refused)."""
        managers = self._managers()
        holder = managers[pick % len(managers)]
        if free:
            taken = set(
                CaseShare.objects.filter(ended_at=None, case=holder.case)
                .exclude(granted_by_agency=holder.agency)
                .values_list("agency_id", flat=True)
            )
            others = self.world.others
            targets = [i for i, each in enumerate(others) if each.pk not in taken]
            to = targets[to % len(targets)] if targets else to
        requested = None
        if beyond is not None and holder.expires_at is not None:
            hours, requested = None, holder.expires_at + datetime.timedelta(hours=beyond)
        self._share(holder.agency, holder.case, to, level, hours, protected, requested)

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
            services.share_revoke(access=case_access(actor, share.case), share=share)
            self.reference.revoke(share.pk)
        except PermissionDenied:
            # The granter has lost its own manage access since; only the owner may now.
            assert by == "granter"
            assert "manage" not in selectors.case_permissions(actor, [share.case])[share.case.pk]
            event("revoke refused")
        else:
            event("share revoked")

    def _sources(self) -> list[CaseShare]:
        """The open shares that open re-shares came from."""
        open_shares = list(
            CaseShare.objects.filter(ended_at=None).select_related("case").order_by("pk")
        )
        granters = {
            (share.case_id, share.granted_by_agency_id)
            for share in open_shares
            if share.granted_by_agency_id != self.world.owner.pk
        }
        return [share for share in open_shares if (share.case_id, share.agency_id) in granters]

    @precondition(lambda self: bool(self._sources()))
    @rule(
        pick=PICKS,
        how=st.sampled_from(["revoke", "replace", "replace"]),
        level=st.sampled_from(["manage", "manage", "view"]),
        hours=st.sampled_from([1, 1, 2, None]),
    )
    def change_source(self, pick: int, how: str, level: str, hours: int | None) -> None:
        """The owner revokes or replaces a share that re-shares came from."""
        sources = self._sources()
        source = sources[pick % len(sources)]
        owner = self.world.owner
        if how == "revoke":
            services.share_revoke(
                access=case_access(self.world.supervisors[owner.pk], source.case), share=source
            )
            self.reference.revoke(source.pk)
            event("a share that re-shares came from revoked")
        else:
            to = [each.pk for each in self.world.others].index(source.agency_id)
            event(f"a share that re-shares came from replaced at the {level} level")
            self._share(owner, source.case, to, level, hours, False)

    @rule(minutes=st.integers(min_value=10, max_value=240))
    def advance(self, minutes: int) -> None:
        self.now += datetime.timedelta(minutes=minutes)
        self.clock.move_to(self.now)

    @rule()
    def expire(self) -> None:
        """The periodic clean-up runs."""
        if services.shares_expire():
            event("expired shares closed")
        self.reference.clean_up(self.now)

    @invariant()
    def selectors_match_the_reference(self) -> None:
        check(self.world, self.reference, self.now)
        check_policy(self.world)


def agency_at(world: World, index: int) -> Agency:
    return world.others[index] if index < len(world.others) else world.owner


def test_what_the_selectors_return_matches_the_share_records(db: Any) -> None:
    Sharing.world = build_world()
    run_state_machine_as_test(
        Sharing,
        settings=settings(
            max_examples=40,
            stateful_step_count=16,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
