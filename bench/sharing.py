"""Benchmark of the permission-filtered case list with sharing at scale. A script, not a test.

Seeds a dedicated database (``casebook_bench_sharing``) with the demo and 50,000 synthetic cases
owned by 300 agencies, then arranges that ``investigator.pa``'s agency (SENAFRONT) sees exactly
5,000 cases: the ones it owns plus shares from other agencies at mixed levels and expiries
(and expired and revoked shares that must not count). Measures, in one run, the case list,
its page 50 and the dashboard as that user, each with the visibility filter (the real pages)
and without it (the same view, queries and template with the filter replaced by TRUE), and
the selector's SQL alone (count + one page of 25) both ways, and prints the ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/sharing.py

See bench/README.md.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from _common import (
    QueryTimer,
    configure_postgres,
    database_size,
    percentile,
    print_plans,
    signed_in_client,
    vacuum_analyze,
)

if TYPE_CHECKING:  # Django is set up at run time, after this module is imported
    from django.contrib.auth.models import User
    from django.test import Client

    from casebook.models import Agency
    from cases.models import CaseShare

BENCH_DATABASE = "casebook_bench_sharing"
USERNAME = "investigator.pa"
TARGET_MS = 50.0
TARGET_RATIO = 1.5
PAGE_SIZE = 25  # cases.views.case.PAGE_SIZE
WARM_UPS = 3
DEEP_PAGE = 50
SHARE_PURPOSE = "Benchmark share"  # marks the shares this script writes (and may delete)
LEVEL_WEIGHTS = (("view", 6), ("contribute", 3), ("manage", 1))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=50_000, help="synthetic cases to seed")
    parser.add_argument("--agencies", type=int, default=300, help="agencies in total")
    parser.add_argument(
        "--visible", type=int, default=5_000, help="cases the test agency sees (own + shared)"
    )
    parser.add_argument("--own", type=int, default=2_000, help="of which it owns")
    parser.add_argument(
        "--expired", type=int, default=500, help="expired shares to it, not yet cleaned up"
    )
    parser.add_argument("--revoked", type=int, default=200, help="revoked shares to it")
    parser.add_argument(
        "--other-shares",
        type=int,
        default=10_000,
        help="shares between other agencies (they fill the grant table)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data")
    parser.add_argument("--repeat", type=int, default=30, help="measured requests per page")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server to use (default: $DATABASE_URL); the bench database "
        f"{BENCH_DATABASE!r} is created on it",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep an already seeded bench database"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN (ANALYZE, BUFFERS) of the slowest queries of each page",
    )
    args = parser.parse_args(argv)
    if not 0 < args.own <= args.visible:
        parser.error("--own must be between 1 and --visible")
    return args


# --- seeding ----------------------------------------------------------------------------------


def seed(args: argparse.Namespace) -> float | None:
    """Migrate, then seed the demo, the agencies and the synthetic cases unless ``--reuse``
    finds them there; returns the seeding time in seconds."""
    from django.core.management import call_command

    from casebook.models import Agency
    from cases.models import Case

    if pending_migrations():
        call_command("migrate", verbosity=0)
        # New indexes and data migrations on a reused database: fresh statistics.
        vacuum_analyze()
    synthetic = Case.objects.filter(summary__startswith="Synthetic").count()
    if args.reuse and synthetic >= args.cases and Agency.objects.count() >= args.agencies:
        print(
            f"Reusing the seeded bench database ({Case.objects.count():,} cases, "
            f"{Agency.objects.count()} agencies)."
        )
        return None
    if synthetic:
        sys.exit(
            f"{BENCH_DATABASE} holds {synthetic:,} synthetic cases, not {args.cases:,}: run "
            "without --reuse to seed it again."
        )
    started = time.monotonic()
    call_command("seed_demo", no_demo_password=True)
    demo_agencies = Agency.objects.count()
    call_command(
        "seed_demo",
        cases=args.cases,
        agencies=max(0, args.agencies - demo_agencies),
        seed=args.seed,
        no_demo_password=True,
    )
    seconds = time.monotonic() - started
    vacuum_analyze()
    return seconds


def pending_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


# --- what the test agency sees ------------------------------------------------------------


@dataclass
class Arrangement:
    own: int = 0
    reassigned: int = 0
    levels: Counter[str] | None = None
    live_without_expiry: int = 0
    live_with_expiry: int = 0
    expired: int = 0
    revoked: int = 0
    other_shares: int = 0
    grants: int = 0
    seconds: float = 0.0
    reused: bool = False


def test_user() -> "User":
    from django.contrib.auth import get_user_model

    return get_user_model().objects.select_related("member__agency").get(username=USERNAME)


def arrange(args: argparse.Namespace) -> Arrangement:
    """Make the test agency own ``--own`` cases and receive shares for the rest of
    ``--visible``, plus expired and revoked shares and shares between other agencies.

    Bench-only shortcuts, written in bulk rather than through the services: owned cases are
    moved between agencies with an UPDATE of ``owner_agency`` and of their owner grants
    (grants without a share); shares are ``CaseShare`` rows (without history records) with
    their grants, of the shape ``cases.services.case_share`` writes. On ``--reuse`` a previous
    arrangement that still gives the wanted counts is kept; otherwise the shares this script
    wrote (purpose ``SHARE_PURPOSE``) are deleted and written again.
    """
    from django.db import transaction

    from cases import selectors
    from cases.models import Case, CaseShare

    user = test_user()
    agency = user.member.agency
    existing = CaseShare.objects.filter(purpose__startswith=SHARE_PURPOSE, agency=agency)
    if (
        existing.exists()
        and Case.objects.filter(owner_agency=agency).count() == args.own
        and selectors.case_list(user).count() == args.visible
        and existing.filter(ended_at__isnull=True).count() == args.visible - args.own + args.expired
    ):
        return describe_arrangement(agency, reused=True)
    started = time.monotonic()
    rng = random.Random(f"casebook-bench-sharing:{args.seed}")  # noqa: S311 (not a secret)
    with transaction.atomic():
        delete_bench_shares()
        reassigned = set_owned_count(agency, user, args.own, rng)
        write_shares(args, agency, rng)
    vacuum_analyze()
    result = describe_arrangement(agency, reused=False)
    result.reassigned = reassigned
    result.seconds = time.monotonic() - started
    visible = selectors.case_list(user).count()
    if visible != args.visible:
        sys.exit(f"{USERNAME} sees {visible:,} cases, not {args.visible:,}: arrangement failed")
    return result


def delete_bench_shares() -> None:
    """Delete the shares this script wrote, and their grants (raw SQL: bench data only)."""
    from django.db import connection

    from cases.models import CaseGroupObjectPermission, CaseShare

    grants = CaseGroupObjectPermission._meta.db_table
    shares = CaseShare._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {grants} WHERE share_id IN "  # noqa: S608 (table names, no input)
            f"(SELECT id FROM {shares} WHERE purpose LIKE %s)",
            [f"{SHARE_PURPOSE}%"],
        )
        cursor.execute(
            f"DELETE FROM {shares} WHERE purpose LIKE %s",  # noqa: S608
            [f"{SHARE_PURPOSE}%"],
        )


def set_owned_count(agency: "Agency", user: "User", wanted: int, rng: random.Random) -> int:
    """Move synthetic cases to or from ``agency`` until it owns ``wanted`` cases; returns how
    many were moved. A moved case keeps its content; its owner grants move with it."""
    from casebook.models import Agency
    from cases.models import Case

    owned = Case.objects.filter(owner_agency=agency)
    count = owned.count()
    if count < wanted:
        candidates = list(
            Case.objects.filter(summary__startswith="Synthetic")
            .exclude(owner_agency=agency)
            .order_by("id")
            .values_list("id", flat=True)
        )
        chosen = sorted(rng.sample(candidates, wanted - count))
        reassign(chosen, [agency.pk] * len(chosen), lead_officer_id=user.pk)
        return len(chosen)
    if count > wanted:
        synthetic = list(
            owned.filter(summary__startswith="Synthetic")
            .order_by("id")
            .values_list("id", flat=True)
        )
        if len(synthetic) < count - wanted:
            sys.exit(f"{agency} owns {count - len(synthetic)} demo cases, more than --own")
        chosen = sorted(rng.sample(synthetic, count - wanted))
        others = list(
            Agency.objects.filter(name__startswith="Synthetic agency").values_list("pk", flat=True)
        )
        reassign(chosen, [others[i % len(others)] for i in range(len(chosen))])
        return len(chosen)
    return 0


def reassign(
    case_ids: list[int], agency_ids: list[int], lead_officer_id: int | None = None
) -> None:
    """Give each case its new owner agency, moving its owner grants (those without a share)
    from the old owner's group to the new one's. Raw SQL, bench data only."""
    from django.db import connection

    from casebook.models import Agency
    from cases.models import Case, CaseGroupObjectPermission

    cases = Case._meta.db_table
    grants = CaseGroupObjectPermission._meta.db_table
    agencies = Agency._meta.db_table
    moves = "SELECT unnest(%s::bigint[]) AS case_id, unnest(%s::bigint[]) AS agency_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {grants} AS g SET group_id = new.group_id
            FROM ({moves}) AS m
            JOIN {cases} AS c ON c.id = m.case_id
            JOIN {agencies} AS old ON old.id = c.owner_agency_id
            JOIN {agencies} AS new ON new.id = m.agency_id
            WHERE g.content_object_id = m.case_id AND g.share_id IS NULL
              AND g.group_id = old.group_id
            """,  # noqa: S608 (table names, no input)
            [case_ids, agency_ids],
        )
        cursor.execute(
            f"""
            UPDATE {cases} AS c SET owner_agency_id = m.agency_id,
                lead_officer_id = COALESCE(%s, c.lead_officer_id)
            FROM ({moves}) AS m WHERE c.id = m.case_id
            """,  # noqa: S608
            [lead_officer_id, case_ids, agency_ids],
        )


def write_shares(args: argparse.Namespace, agency: "Agency", rng: random.Random) -> None:
    """Shares to the test agency (live, expired, revoked) and between other agencies."""
    from django.utils import timezone

    from casebook.models import Agency
    from cases.models import Case, CaseShare

    now = timezone.now()
    cases = list(
        Case.objects.filter(summary__startswith="Synthetic")
        .exclude(owner_agency=agency)
        .select_related("owner_agency")
        .order_by("id")
        .only("id", "owner_agency_id", "owner_agency__id", "lead_officer_id", "created_by_id")
    )
    live, expired, revoked = args.visible - args.own, args.expired, args.revoked
    chosen = rng.sample(cases, live + expired + revoked)
    levels = [level for level, weight in LEVEL_WEIGHTS for _ in range(weight)]
    shares: list[CaseShare] = []

    def share(case: Case, recipient_id: int, **values: Any) -> None:
        values.setdefault("level", rng.choice(levels))
        values.setdefault("include_protected", rng.random() < 0.25)
        shares.append(
            CaseShare(
                case_id=case.pk,
                agency_id=recipient_id,
                purpose=f"{SHARE_PURPOSE}: joint investigation along the corridor",
                granted_by_id=case.lead_officer_id or case.created_by_id,
                granted_by_agency_id=case.owner_agency_id,
                granted_at=now - datetime.timedelta(days=rng.randint(1, 400)),
                **values,
            )
        )

    for index, case in enumerate(chosen):
        if index < live:
            # Four in ten without expiry, the others expiring within the next year (a few
            # within the hour).
            expires_at = None
            if rng.random() >= 0.4:
                expires_at = now + datetime.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
            share(case, agency.pk, expires_at=expires_at)
        elif index < live + expired:
            # Past their expiry, not yet ended by the clean-up task: the selector drops them.
            expires_at = now - datetime.timedelta(minutes=rng.randint(1, 60 * 24 * 60))
            share(case, agency.pk, expires_at=expires_at)
        else:
            ended_at = now - datetime.timedelta(days=rng.randint(0, 90))
            share(case, agency.pk, ended_at=ended_at, end_reason="revoked")
    others = list(Agency.objects.exclude(pk=agency.pk).values_list("pk", flat=True))
    taken = {(case.pk, agency.pk) for case in chosen}
    while len(taken) < len(chosen) + args.other_shares:
        case = rng.choice(cases)
        recipient = rng.choice(others)
        if recipient != case.owner_agency_id and (case.pk, recipient) not in taken:
            taken.add((case.pk, recipient))
            expires_at = None
            if rng.random() < 0.5:
                expires_at = now + datetime.timedelta(days=rng.randint(1, 365))
            share(case, recipient, expires_at=expires_at)
    shares = CaseShare.objects.bulk_create(shares, batch_size=2000)
    write_grants([s for s in shares if s.ended_at is None])


def write_grants(shares: Sequence["CaseShare"]) -> None:
    """The grants of open shares, as ``cases.services.case_share`` gives them: the level's
    permissions, plus ``view_protected`` when the share includes protected identities, each
    carrying the share and its expiry."""
    from casebook.models import Agency
    from cases.models import CaseGroupObjectPermission, CaseShare
    from cases.selectors import permission_id

    groups = dict(Agency.objects.values_list("pk", "group_id"))
    grants: list[CaseGroupObjectPermission] = []
    for share in shares:
        codenames = list(CaseShare.LEVEL_PERMISSIONS[share.level])
        if share.include_protected:
            codenames.append("view_protected")
        grants.extend(
            CaseGroupObjectPermission(
                content_object_id=share.case_id,
                group_id=groups[share.agency_id],
                permission_id=permission_id(codename),
                share_id=share.pk,
                expires_at=share.expires_at,
            )
            for codename in codenames
        )
    CaseGroupObjectPermission.objects.bulk_create(grants, batch_size=5000)


def describe_arrangement(agency: "Agency", *, reused: bool) -> Arrangement:
    from django.db.models import Q
    from django.utils import timezone

    from cases.models import Case, CaseGroupObjectPermission, CaseShare

    now = timezone.now()
    mine = CaseShare.objects.filter(purpose__startswith=SHARE_PURPOSE, agency=agency)
    live = mine.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), ended_at__isnull=True)
    return Arrangement(
        own=Case.objects.filter(owner_agency=agency).count(),
        levels=Counter(live.values_list("level", flat=True)),
        live_without_expiry=live.filter(expires_at__isnull=True).count(),
        live_with_expiry=live.filter(expires_at__isnull=False).count(),
        expired=mine.filter(expires_at__lte=now, ended_at__isnull=True).count(),
        revoked=mine.filter(ended_at__isnull=False).count(),
        other_shares=CaseShare.objects.filter(purpose__startswith=SHARE_PURPOSE)
        .exclude(agency=agency)
        .count(),
        grants=CaseGroupObjectPermission.objects.count(),
        reused=reused,
    )


# --- measuring --------------------------------------------------------------------------------


@contextmanager
def unfiltered() -> Iterator[None]:
    """The visibility filter replaced by TRUE: the same views, queries and templates over
    every case. Patches ``cases.selectors.visible_to`` (every case query filters through it)
    and ``case_count``, which counts on the grants when no filter narrows the list: counted
    over the cases instead, as an unfiltered list would. Only for measuring; checked by
    ``check_unfiltered``.

    ``cases.selectors`` is a package whose modules import each other's functions: each is
    patched in every module of the package that holds it, where its callers look it up."""
    from unittest import mock

    from django.db.models import BooleanField, Value

    from cases import selectors

    def everything(*args: Any, **kwargs: Any) -> Value:
        return Value(True, output_field=BooleanField())

    def count_cases(user: "User", *, filters: Any = None) -> int:
        return selectors.case_list(user, filters=filters).count()

    modules = [
        module
        for name, module in sorted(sys.modules.items())
        if name == selectors.__name__ or name.startswith(f"{selectors.__name__}.")
    ]
    replacements: dict[str, Callable[..., Any]] = {"visible_to": everything}
    if hasattr(selectors, "case_count"):
        replacements["case_count"] = count_cases
    with ExitStack() as patches:
        for attribute, replacement in replacements.items():
            original = getattr(selectors, attribute)
            for module in modules:
                if getattr(module, attribute, None) is original:
                    patches.enter_context(mock.patch.object(module, attribute, replacement))
        yield


def list_source(user: "User") -> Any:
    """What the case list page paginates: ``CaseResults`` if the selectors have it (count on
    the grants, ids first, then the page's rows), else the ``case_list`` queryset."""
    from cases import selectors

    results = getattr(selectors, "CaseResults", None)
    return results(user) if results is not None else selectors.case_list(user)


def check_unfiltered(user: "User") -> None:
    from django.core.paginator import Paginator

    from cases.models import Case

    with unfiltered():
        seen = Paginator(list_source(user), PAGE_SIZE).count
    if seen != Case.objects.count():
        sys.exit(
            "The case list no longer filters through cases.selectors.visible_to() and "
            "case_count(): adapt unfiltered() in bench/sharing.py to the new filter."
        )


@dataclass
class Timing:
    name: str
    median: float
    p95: float
    queries: int
    sql_ms: float  # median time in the database
    status: int = 200


def measure_pair(
    name: str, call: Callable[[], int], repeat: int, explain: bool
) -> tuple[Timing, Timing]:
    """Times ``call`` (which returns an HTTP status) with the visibility filter and without,
    alternately, so that a change in the machine's load weighs on both alike. The SQL is
    counted and timed on separate calls, so that recording it does not slow the timed ones.
    """
    variants = ((name, nullcontext), (f"{name} (unfiltered)", unfiltered))
    statuses = {}
    for label, context in variants:
        with context():
            for _ in range(WARM_UPS):
                statuses[label] = call()
    times: dict[str, list[float]] = {label: [] for label, _ in variants}
    sql: dict[str, list[float]] = {label: [] for label, _ in variants}
    queries: dict[str, list[dict[str, Any]]] = {}
    for _ in range(repeat):
        for label, context in variants:
            with context():
                started = time.perf_counter()
                call()
                times[label].append((time.perf_counter() - started) * 1000)
    for _ in range(max(5, repeat // 3)):
        for label, context in variants:
            with context(), QueryTimer() as timer:
                call()
            sql[label].append(timer.ms)
            queries[label] = timer.queries
    timings = []
    for label, _context in variants:
        if explain:
            print(f"  {label}:")
            print_plans(queries[label])
        timings.append(
            Timing(
                label,
                statistics.median(times[label]),
                percentile(times[label], 0.95),
                len(queries[label]),
                statistics.median(sql[label]),
                statuses[label],
            )
        )
    return timings[0], timings[1]


def page_call(client: "Client", url: str) -> Callable[[], int]:
    return lambda: client.get(url).status_code


def selector_call(user: "User", page: int) -> Callable[[], int]:
    """The list page's reads as its paginator runs them (count, then one page), for a fresh
    request: the user's agency groups, cached on the user object, are read again."""

    def run() -> int:
        user.__dict__.pop("_casebook_group_ids", None)
        source = list_source(user)
        source.count()
        start = (page - 1) * PAGE_SIZE
        list(source[start : start + PAGE_SIZE])
        return 200

    return run


def measure(args: argparse.Namespace) -> list[tuple[Timing, Timing]]:
    """(filtered, unfiltered) timings of each page and of the selector alone."""
    from django.urls import reverse

    user = test_user()
    client = signed_in_client(user)
    check_unfiltered(user)
    case_list = reverse("cases:list")
    calls = [
        ("case list", page_call(client, case_list)),
        (f"case list, page {DEEP_PAGE}", page_call(client, f"{case_list}?page={DEEP_PAGE}")),
        ("dashboard", page_call(client, reverse("dashboard"))),
        ("selector: count + page 1", selector_call(user, 1)),
        (f"selector: count + page {DEEP_PAGE}", selector_call(user, DEEP_PAGE)),
    ]
    pairs = []
    for name, call in calls:
        pair = measure_pair(name, call, args.repeat, args.explain)
        pairs.append(pair)
        print_pair(*pair)
    if args.explain:
        explain_selector(user)
    return pairs


def explain_selector(user: "User") -> None:
    for label, context in (("filtered", nullcontext), ("unfiltered", unfiltered)):
        with context(), QueryTimer() as timer:
            selector_call(user, 1)()
        print(f"  selector, page 1, {label}:")
        print_plans(timer.queries, slowest=2)


def print_pair(filtered: Timing, plain: Timing) -> None:
    for t in (filtered, plain):
        warning = "" if t.status == 200 else f"  (answered {t.status})"
        print(
            f"{t.name}: median {t.median:.1f} ms, p95 {t.p95:.1f} ms, {t.queries} queries "
            f"({t.sql_ms:.1f} ms in SQL){warning}"
        )
    print(
        f"  filtered / unfiltered: {filtered.median / plain.median:.2f} x in total, "
        f"{ratio(filtered.sql_ms, plain.sql_ms)} x in SQL"
    )


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "-"


def print_table(pairs: Sequence[tuple[Timing, Timing]]) -> None:
    print()
    print(
        f"{'':<28} {'filtered':>17} {'unfiltered':>17} {'ratio':>6} {'sql ratio':>9} {'queries':>8}"
    )
    print(f"{'':<28} {'median / sql ms':>17} {'median / sql ms':>17}")
    for filtered, plain in pairs:
        flags = []
        page = not filtered.name.startswith("selector")
        if page and filtered.median > TARGET_MS:
            flags.append(f"over {TARGET_MS:.0f} ms")
        if filtered.name == "case list" and filtered.median / plain.median > TARGET_RATIO:
            flags.append(f"ratio over {TARGET_RATIO}")
        print(
            f"{filtered.name:<28} {filtered.median:>8.1f} / {filtered.sql_ms:>6.1f} "
            f"{plain.median:>8.1f} / {plain.sql_ms:>6.1f} "
            f"{filtered.median / plain.median:>6.2f} {ratio(filtered.sql_ms, plain.sql_ms):>9} "
            f"{filtered.queries:>4}/{plain.queries:<3}" + (f"  {', '.join(flags)}" if flags else "")
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    where = configure_postgres(
        args.database_url, BENCH_DATABASE, reuse=args.reuse, script="bench/sharing.py"
    )
    import django

    django.setup()
    from casebook.models import Agency
    from cases import selectors
    from cases.models import Case

    print(f"Bench database: {where}")
    seconds = seed(args)
    if seconds is not None:
        print(
            f"Seeded the demo, {Agency.objects.count()} agencies and {args.cases:,} synthetic "
            f"cases in {seconds:.0f} s."
        )
    arrangement = arrange(args)
    a = arrangement
    user = test_user()
    levels = ", ".join(f"{n:,} {level}" for level, n in sorted((a.levels or {}).items()))
    print(
        f"{'Kept' if a.reused else 'Arranged'} what {user.member.agency.acronym} sees"
        + ("" if a.reused else f" in {a.seconds:.1f} s ({a.reassigned:,} cases re-assigned)")
        + f": {a.own:,} owned + {sum((a.levels or {}).values()):,} live shares ({levels}; "
        f"{a.live_without_expiry:,} without expiry, {a.live_with_expiry:,} expiring later) = "
        f"{selectors.case_list(user).count():,} visible cases; not counted: {a.expired:,} "
        f"expired and {a.revoked:,} revoked shares. Also {a.other_shares:,} shares between "
        f"other agencies; {a.grants:,} grants in all."
    )
    print(
        f"{Case.objects.count():,} cases, {Agency.objects.count()} agencies; database size "
        f"{database_size()}."
    )
    load_before = os.getloadavg()[0]
    pairs = measure(args)
    print_table(pairs)
    print(
        f"\nLoad average (1 min) {load_before:.2f} before measuring, {os.getloadavg()[0]:.2f} "
        f"after, on {os.cpu_count()} CPUs: on a busy machine the times can double or more, "
        "the filtered / unfiltered ratios much less (the two alternate)."
    )
    first_page = pairs[0][0]
    print(
        f"\nTargets: case list median {first_page.median:.1f} ms (< {TARGET_MS:.0f} ms), "
        f"filtered / unfiltered {first_page.median / pairs[0][1].median:.2f} x "
        f"(<= {TARGET_RATIO} x); selector alone {ratio(pairs[3][0].sql_ms, pairs[3][1].sql_ms)} x "
        "in SQL."
    )
    return 0 if all(t.status == 200 for pair in pairs for t in pair) else 1


if __name__ == "__main__":
    sys.exit(main())
