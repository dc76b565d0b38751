"""State-changing requests (the POST sweep): every URL that takes POST, posted with plausible
data (``tests.leaks.post_data``) by every user who may not act, is refused as the oracle says
and changes nothing in the database; the access log grows only by refusals. One user who may
act shows that the data would have changed something."""

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Max

from casebook.models import AccessLog
from tests.leaks.access import FORBIDDEN, NOT_FOUND, RULES, Unchanged
from tests.leaks.harness import Report, accepts_post, expected_set, fetch, url_for, users_for
from tests.leaks.post_data import POST_DATA
from tests.leaks.targets import Target, sweep_targets
from tests.leaks.world import World


def _history_and_tables() -> list[tuple[str, str]]:
    """(label, table) of every model of the cases and casebook apps (history and through
    tables included) and of users and groups."""
    models = []
    for label in ("cases", "casebook"):
        models += list(apps.get_app_config(label).get_models(include_auto_created=True))
    user_model = get_user_model()
    models += [user_model, user_model.groups.through, apps.get_model("auth", "Group")]
    return [(m._meta.label, m._meta.db_table) for m in models]


# Tables whose rows change in place without a history row: fingerprinted, not just counted.
FINGERPRINTED = (
    "cases.MatchKey",
    "cases.CaseGroupObjectPermission",
    "cases.Hit",
    "cases.HitDismissal",
    "cases.CommonKey",
    "casebook.Notification",
    "casebook.Notification_read_by",
    "cases.Evidence",
    "auth.User",
)


def snapshot() -> dict[str, Any]:
    """Row counts of every table (one query), and fingerprints of the tables above."""
    tables = [
        (label, table) for label, table in _history_and_tables() if label != AccessLog._meta.label
    ]
    quote = connection.ops.quote_name
    # Table names from the models' own metadata, quoted: no user input.
    counts_sql = ", ".join(
        f"(SELECT COUNT(*) FROM {quote(table)})"  # noqa: S608
        for _l, table in tables
    )
    sql = f"SELECT {counts_sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        counts = dict(zip([label for label, _t in tables], cursor.fetchone(), strict=True))
    state: dict[str, Any] = dict(counts)
    for label in FINGERPRINTED:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        state[f"{label}#rows"] = hash(tuple(model._default_manager.order_by("pk").values_list()))
    state["access_log_max_id"] = AccessLog.objects.aggregate(top=Max("id"))["top"] or 0
    return state


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [
        f"{key}: {before.get(key)} -> {after.get(key)}"
        for key in sorted(set(before) | set(after))
        if key != "access_log_max_id" and before.get(key) != after.get(key)
    ]


def _new_access_log_rows(before: dict[str, Any]) -> list[tuple[str, str]]:
    return list(
        AccessLog.objects.filter(id__gt=before["access_log_max_id"]).values_list(
            "action", "object_type"
        )
    )


# Access-log actions that record something done (not a read, not a refusal).
ACTS = (AccessLog.Action.SHARE, AccessLog.Action.REVOKE, AccessLog.Action.EXPORT)


def _post_targets(targets: list[Target]) -> list[Target]:
    """Fewer targets for POST: one per case, protectedness and existence."""
    chosen: dict[tuple[Any, ...], Target] = {}
    for target in targets:
        key = (target.case, target.exists, target.label.split("/")[-1][:1], target.obj_kind)
        chosen.setdefault(key, target)
    return list(chosen.values())


def test_state_changing_requests_by_those_who_may_not_act_change_nothing(
    world: World, db: Any
) -> None:
    """POST every URL that takes POST, with plausible data, as every user who may not act:
    404 or 403 as the oracle says, and the database unchanged (row counts of every table and
    every history table, fingerprints of tables changed in place); the access log grows only
    by refusals. And as one user who may act, to show the data would have changed something."""
    report = Report()
    baseline = snapshot()
    for pattern, targets in sweep_targets(world):
        rule = RULES.get(pattern.name)
        if rule is None or not targets:
            continue
        if not accepts_post(world, pattern, targets[0]):
            continue
        make_data = POST_DATA.get(pattern.name)
        if make_data is None or rule.post is None:
            continue  # reported by test_every_url_pattern_is_covered
        post_targets = _post_targets(targets)
        # Every user posts to the first URL of a pattern about no case (a form of their own:
        # new case, new member...); elsewhere one user of each permission class, in turn.
        primary = {0} if post_targets and post_targets[0].case is None else set()
        for index, target in enumerate(post_targets):
            url = url_for(pattern, target)
            where = f"POST {pattern.name} [{target.label}] {url}"
            actor_checked = False
            for username in users_for(world, target, index in primary, rule):
                expect = rule.post(world, username, target)
                may_act = not isinstance(expect, Unchanged) and not (
                    expected_set(expect) & {FORBIDDEN, NOT_FOUND}
                )
                if may_act and actor_checked:
                    continue
                fetched, after = fetch(
                    world,
                    username,
                    "POST",
                    url,
                    make_data(world, target),
                    after=lambda: (snapshot(), _new_access_log_rows(baseline)),
                )
                report.requests += 1
                state, log_rows = after
                report.check_markers(world, username, where, fetched)
                report.check_status(where, username, expect, fetched)
                diff = changes(baseline, state)
                if may_act:
                    actor_checked = True
                    if not diff and target.exists:
                        report.add(
                            f"VACUOUS {where} as {username}: a user who may act changed "
                            f"nothing ({fetched.status}); fix POST_DATA"
                        )
                    continue
                if diff:
                    report.add(
                        f"CHANGED {where} as {username} ({fetched.status}): " + "; ".join(diff)
                    )
                # Reads that passed before the refusal (the case page, the share) are logged
                # as reads; a refused request must never be logged as done.
                wrong_log = [row for row in log_rows if row[0] in ACTS]
                if wrong_log:
                    report.add(f"ACCESS LOG {where} as {username}: logged as done {wrong_log}")
                if fetched.status in (FORBIDDEN, NOT_FOUND) and not log_rows:
                    report.add(
                        f"NOT LOGGED {where} as {username}: a refusal ({fetched.status}) "
                        f"left no row in the access log"
                    )
    report.fail_if_any(f"POST sweep ({report.requests} requests)")
