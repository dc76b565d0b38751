"""Query strings that could reveal hidden records: on every page with a search or filter form
(found in the pages themselves), a value that matches only records the user may not see gives
the same page as a value that matches nothing."""

import html
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from tests.leaks.access import OK, RULES, Rule
from tests.leaks.harness import Report, fetch, signed_in_users, url_for
from tests.leaks.targets import Pattern, Target, sweep_targets
from tests.leaks.world import CASES, World, token

_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
_FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>(.*?</select>)?", re.S | re.I)
_ATTR = re.compile(r"\b(name|type|value)=\"([^\"]*)\"", re.I)
_OPTION_VALUE = re.compile(r"<option\b[^>]*\bvalue=\"([^\"]*)\"", re.I)
_CSRF = re.compile(r"csrfmiddlewaretoken\" value=\"[^\"]*\"|csrftoken=[^;\s]*")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TEXT_TYPES = ("", "text", "search")


@dataclass(frozen=True)
class FormField:
    name: str
    kind: str  # "text" or "select"
    options: tuple[str, ...] = ()


def get_form_fields(text: str) -> list[FormField]:
    """The fields of the page's GET forms (search and filter forms)."""
    fields: dict[str, FormField] = {}
    for form in _FORM.findall(text):
        opening = form[: form.find(">")].lower()
        if 'method="post"' in opening:
            continue
        for tag, attrs, rest in _FIELD.findall(form):
            values = {k.lower(): v for k, v in _ATTR.findall(attrs)}
            name = values.get("name", "")
            if not name or name in ("csrfmiddlewaretoken", "page") or name in fields:
                continue
            if tag.lower() == "select":
                options = tuple(html.unescape(v) for v in _OPTION_VALUE.findall(rest or ""))
                fields[name] = FormField(name, "select", options)
            elif tag.lower() == "textarea" or values.get("type", "").lower() in TEXT_TYPES:
                fields[name] = FormField(name, "text")
    return list(fields.values())


# Pages where a username is not a hidden value: the access log lists who tried to read the
# agency's cases, and in this world every user tried (``seed_access_log``).
NO_USER_PROBES = ("access_log", "access_log_export")


def _probes(world: World, username: str, form_field: FormField, page: str) -> list[tuple[str, str]]:
    """(hidden value, control value of the same shape): the hidden one matches only records
    the user may not see; the control matches nothing. Text fields get names, references and
    numbers; selects get what their options are made of (UUIDs, usernames, numbers)."""
    assert world.oracle is not None
    oracle = world.oracle
    forbidden = oracle.forbidden(username)
    hidden_cases = [code for code in CASES if not oracle.may(username, "view", code)]
    # Someone who worked only on cases the user may not see: the investigator of an agency
    # whose own cases are all hidden from the user.
    others = [
        f"{owner.lower()}.investigator"
        for owner in sorted({owner for owner, _code in CASES.values()})
        if owner != world.personas[username].agency
        and all(not oracle.may(username, "view", c) for c, (o, _h) in CASES.items() if o == owner)
    ]
    probes: list[tuple[str, str]] = []
    if form_field.kind == "text":
        for field_name in ("CASETITLE", "PERSNAME"):
            flag = "C" if field_name == "CASETITLE" else "P"
            hidden = next(
                (
                    token(c, flag, field_name)
                    for c in CASES
                    if token(c, flag, field_name) in forbidden
                ),
                None,
            )
            if hidden:
                probes.append((hidden, "LEAKMARKZZZ" + "Q" * (len(hidden) - 11)))
        if hidden_cases:
            case = world.cases[hidden_cases[0]]
            probes.append((case.reference, case.reference[:-5] + "99999"))
            phone = world.entities[(hidden_cases[0], "U", "phone")].identifier
            probes.append((phone, phone[:-4] + "9999"))
        if others and page not in NO_USER_PROBES:
            probes.append((others[0], "z" * len(others[0])))
        return probes
    options = form_field.options
    if hidden_cases and any(_UUID.fullmatch(o) for o in options):
        case = world.cases[hidden_cases[0]]
        probes.append((str(case.uuid), str(uuid.UUID(int=case.uuid.int ^ 0xFFFF))))
        entity = world.entities[(hidden_cases[0], "P", "person")]
        probes.append((str(entity.uuid), str(uuid.UUID(int=entity.uuid.int ^ 0xFFFF))))
    if hidden_cases and any(o.isdigit() for o in options):
        case = world.cases[hidden_cases[0]]
        probes.append((str(case.pk), str(10_000 + case.pk)))
    if others and page not in NO_USER_PROBES and any(o in world.personas for o in options):
        probes.append((others[0], "z" * len(others[0])))
    return probes


def _without(text: str, values: tuple[str, ...]) -> str:
    """The text with the probe value (as typed, escaped or URL-encoded) taken out: a page
    may repeat what the user typed."""
    for value in values:
        for form in {value, html.escape(value), _q(value), value.replace(" ", "+")}:
            text = text.replace(form, "@@PROBE@@")
    return text


def _normalised(text: str, values: tuple[str, ...]) -> str:
    body = text.split("\n\n", 1)[-1]
    body = _CSRF.sub("", body)
    return _without(body, values)


# Pages with a search or filter form probed as each user: those about no case, and the
# case pages of the most shared case.
PROBED_CASES = ("AMB",)


def probe_users(world: World, pattern: Pattern, rule: Rule) -> list[str]:
    """One user of each agency per distinct view of the world: the same actions on every
    case and the same status on the page (a supervisor's access log, say) see the same."""
    assert world.oracle is not None
    oracle = world.oracle
    chosen: dict[tuple[Any, ...], str] = {}
    for username in signed_in_users(world):
        key = (
            world.personas[username].agency,
            tuple(oracle.actions(username, code) for code in CASES),
            rule.get(world, username, Target()) if not pattern.kwargs else None,
        )
        chosen.setdefault(key, username)
    return list(chosen.values())


def test_filters_do_not_tell_whether_hidden_records_match(world: World, db: Any) -> None:
    """On every page with a search or filter form (found in the pages themselves), a value
    that matches only records the user may not see gives the same page as a value that
    matches nothing: same status, no marker, same counts, same everything."""
    report = Report()
    for pattern, targets in sweep_targets(world):
        rule = RULES.get(pattern.name)
        if rule is None:
            continue
        for username in probe_users(world, pattern, rule):
            target = next(
                (
                    t
                    for t in targets
                    if t.exists
                    and t.case in (None, *PROBED_CASES)
                    and rule.get(world, username, t) == OK
                ),
                None,
            )
            if target is None:
                continue
            url = url_for(pattern, target)
            page, _ = fetch(world, username, "GET", url)
            report.requests += 1
            if page.status != OK or "<form" not in page.text:
                continue
            for form_field in get_form_fields(page.text):
                for hidden, control in _probes(world, username, form_field, pattern.name):
                    name = form_field.name
                    probe, _ = fetch(world, username, "GET", f"{url}?{name}={_q(hidden)}")
                    blank, _ = fetch(world, username, "GET", f"{url}?{name}={_q(control)}")
                    report.requests += 2
                    where = f"GET {pattern.name} [{target.label}] ?{name}={hidden}"
                    probe.text = _without(probe.text, (hidden,))
                    report.check_markers(world, username, where, probe)
                    if probe.status != blank.status:
                        report.add(
                            f"DIFFERS {where} as {username}: status {probe.status} "
                            f"vs {blank.status} for a value matching nothing"
                        )
                    elif _normalised(probe.text, (hidden,)) != _normalised(blank.text, (control,)):
                        report.add(
                            f"DIFFERS {where} as {username}: the page is not the same "
                            f"as for a value matching nothing"
                        )
    report.fail_if_any(f"filter probes ({report.requests} requests)")


def _q(value: str) -> str:
    return quote_plus(value)
