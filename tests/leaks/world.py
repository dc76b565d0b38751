"""The world of the leak test, its markers, and the oracle of who may see what.

The world is declared here as plain data (agencies, cases, shares, entities) and built through
the real services (``cases.services``), so that permissions, references,
match keys, history, notifications and hits are the ones the application makes.

Every identifying value in the world is a MARKER: a distinctive string that the test looks
for in every response. Text markers are single tokens, ``LEAKMARK`` + case code + flag +
field (``LEAKMARKAMBPPERSNAME``): a single token survives every normalisation the application
applies (the name match key sorts and lower-cases words, handle keys lower-case, plates drop
separators), so a leak is found whatever form it takes; a token that is a prefix of a marker
(a truncated display) counts too. Phone numbers, birth dates, coordinates and case references
cannot be tokens; they are searched for in the forms the pages may print them in.

The world also edits (``WorldBuilder.edits``: role changes both ways, renames, a changed number,
a relationship and a movement re-pointed, all through the services), and holds the cases the
first sweep lacked (a movement protected only through a facilitator, manage-level recipients
of RED and AMBER+STRICT, re-shares whose source share ends, a protected value matched by
visible cases, a hit on a protected identity allowed by its owner's policy). Built with
``permuted=True`` it is the same world with every protected value replaced by one that sorts
the other way (``test_permutation``); ``World.canaries`` labels each value alike in both.

The oracle (``Oracle``) says from this declaration alone, without asking the selectors, what
each user may see and do: it is the independent reference the responses are compared with.
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casebook.models import Agency, Country, Member
from cases import selectors, services
from cases.models import (
    Case,
    CaseShare,
    Entity,
    Evidence,
    Movement,
    Note,
    Relationship,
)
from tests.factories import AgencyFactory, UserFactory

# --- the declaration -----------------------------------------------------------------------

ROLES = ("investigator", "prosecutor", "analyst", "supervisor")


@dataclass(frozen=True)
class AgencySpec:
    key: str
    country: str
    kind: str
    name: str
    contact_point: str


AGENCIES = (
    AgencySpec(
        "PAPOL",
        "PA",
        Agency.Kind.POLICE,
        "Dirección de Investigación Judicial de Panamá",
        "enlace.dij@policia.pa.example",
    ),
    AgencySpec(
        "PAPROS",
        "PA",
        Agency.Kind.PROSECUTION,
        "Fiscalía contra la Delincuencia Organizada de Panamá",
        "fiscalia.fecdo@mp.pa.example",
    ),
    AgencySpec(
        "CRPOL",
        "CR",
        Agency.Kind.POLICE,
        "Organismo de Investigación Judicial de Costa Rica",
        "trata.oij@poder-judicial.cr.example",
    ),
    AgencySpec(
        "COPOL",
        "CO",
        Agency.Kind.POLICE,
        "Dirección de Investigación Criminal de Colombia",
        "dijin.enlace@policia.co.example",
    ),
    AgencySpec(
        "MXPROS",
        "MX",
        Agency.Kind.PROSECUTION,
        "Fiscalía Especializada en Trata de México",
        "fevimtra@fgr.mx.example",
    ),
    AgencySpec(
        "GTPOL",
        "GT",
        Agency.Kind.POLICE,
        "División Especializada en Investigación Criminal de Guatemala",
        "deic.enlace@pnc.gt.example",
    ),
    # Reached only through a re-share that ends when the share it came from is replaced.
    AgencySpec(
        "SVPOL",
        "SV",
        Agency.Kind.POLICE,
        "División Élite contra el Crimen Organizado de El Salvador",
        "deco.enlace@pnc.sv.example",
    ),
    # The outsider: an agency with nothing shared, ever.
    AgencySpec(
        "HNPOL",
        "HN",
        Agency.Kind.POLICE,
        "Dirección Policial de Investigaciones de Honduras",
        "dpi.enlace@policia.hn.example",
    ),
)

# Case code (short, and no code a prefix of another) -> (owner agency, handling code).
CASES: dict[str, tuple[str, str]] = {
    "CLR": ("PAPOL", Case.HandlingCode.CLEAR),
    "GRN": ("PAPOL", Case.HandlingCode.GREEN),
    "AMB": ("PAPOL", Case.HandlingCode.AMBER),
    "AST": ("PAPOL", Case.HandlingCode.AMBER_STRICT),
    "RED": ("PAPOL", Case.HandlingCode.RED),
    # Costa Rica's own case, never shared: the other side of the hits.
    "CRC": ("CRPOL", Case.HandlingCode.AMBER),
}

LIVE, EXPIRED, REVOKED = "live", "expired", "revoked"
# Ended without anyone ending it: the share it was re-shared from ended (revoked, expired,
# or replaced below the manage level); a share replaced by a newer one with the same agency.
SOURCE_ENDED, REPLACED = "source-ended", "replaced"


@dataclass(frozen=True)
class ShareSpec:
    case: str
    agency: str
    level: str
    include_protected: bool
    state: str  # LIVE, EXPIRED (its expiry passes before the requests), REVOKED
    granted_by: str = "PAPOL"
    # LIVE shares may have an expiry that is still ahead when the requests are made.
    expires_in_days: int | None = None
    # Told apart from another share of the same case with the same agency (a replacement).
    tag: str = ""
    # Made (phase 2) or revoked (REVOKED, phase 2) after every phase-1 share: so that the
    # re-shares made from a share exist when it ends or is replaced.
    later: bool = False

    @property
    def key(self) -> str:
        """The share's key in ``World.shares`` (after the case code)."""
        return self.agency + self.tag


SHARES = (
    ShareSpec("CLR", "CRPOL", CaseShare.Level.VIEW, False, LIVE),
    ShareSpec("CLR", "GTPOL", CaseShare.Level.CONTRIBUTE, True, EXPIRED),
    ShareSpec("GRN", "COPOL", CaseShare.Level.MANAGE, True, LIVE),
    # A re-share by a manage-level recipient (GREEN allows it, to any agency).
    ShareSpec("GRN", "CRPOL", CaseShare.Level.VIEW, False, LIVE, granted_by="COPOL"),
    ShareSpec("AMB", "PAPROS", CaseShare.Level.CONTRIBUTE, True, LIVE),
    ShareSpec("AMB", "CRPOL", CaseShare.Level.VIEW, False, LIVE),
    ShareSpec("AMB", "COPOL", CaseShare.Level.VIEW, True, EXPIRED),
    ShareSpec("AMB", "MXPROS", CaseShare.Level.MANAGE, True, REVOKED),
    ShareSpec("AST", "PAPROS", CaseShare.Level.VIEW, False, LIVE, expires_in_days=30),
    ShareSpec("RED", "MXPROS", CaseShare.Level.VIEW, False, REVOKED),
    # A live RED share: a recipient who may see the case but, under RED, never export it.
    ShareSpec("RED", "GTPOL", CaseShare.Level.VIEW, False, LIVE),
    # Manage-level recipients of a RED and of an AMBER+STRICT case: they manage, and still
    # may neither re-share nor (RED) export; without and with the protected identities.
    ShareSpec("RED", "COPOL", CaseShare.Level.MANAGE, False, LIVE),
    ShareSpec("AST", "COPOL", CaseShare.Level.MANAGE, True, LIVE),
    # Re-shares whose source share ends: revoked (CLR by MXPROS), expires (GRN by MXPROS),
    # is replaced below the manage level (CLR by COPOL, replaced by a view share).
    ShareSpec("CLR", "MXPROS", CaseShare.Level.MANAGE, False, REVOKED, later=True),
    ShareSpec("CLR", "PAPROS", CaseShare.Level.VIEW, False, SOURCE_ENDED, granted_by="MXPROS"),
    ShareSpec("GRN", "MXPROS", CaseShare.Level.MANAGE, False, EXPIRED),
    ShareSpec("GRN", "PAPROS", CaseShare.Level.CONTRIBUTE, False, EXPIRED, granted_by="MXPROS"),
    ShareSpec("CLR", "COPOL", CaseShare.Level.MANAGE, False, REPLACED, tag="#1"),
    ShareSpec("CLR", "SVPOL", CaseShare.Level.VIEW, False, SOURCE_ENDED, granted_by="COPOL"),
    ShareSpec("CLR", "COPOL", CaseShare.Level.VIEW, False, LIVE, tag="#2", later=True),
)

# How far the clock moves between building the world and making the requests: past the
# expiry of the EXPIRED shares (one hour after they were made), before the LIVE ones'.
TIME_SHIFT = datetime.timedelta(days=2)
EXPIRED_AFTER = datetime.timedelta(hours=1)

# What each level of grant gives an agency, and what each role lets a member do. Written out
# here from the issue and DESIGN.md, not imported: this is the reference the code is checked
# against.
LEVEL_ACTIONS: dict[str, frozenset[str]] = {
    "owner": frozenset({"view", "contribute", "change", "manage", "view_protected"}),
    CaseShare.Level.VIEW: frozenset({"view"}),
    CaseShare.Level.CONTRIBUTE: frozenset({"view", "contribute"}),
    CaseShare.Level.MANAGE: frozenset({"view", "contribute", "change", "manage"}),
}
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "investigator": frozenset({"view", "contribute", "change", "view_protected"}),
    "prosecutor": frozenset({"view", "contribute", "change", "view_protected"}),
    "analyst": frozenset({"view"}),
    "supervisor": frozenset({"view", "manage"}),
}
# Whether an agency a case is shared with may export it, per handling code (the TLP
# table, "export by recipients"); the owner agency always may. AMBER+STRICT says "within their
# own agency": a member's download stays in their agency, so the export itself is allowed.
EXPORT_BY_RECIPIENTS: dict[str, bool] = {
    Case.HandlingCode.RED: False,
    Case.HandlingCode.AMBER_STRICT: True,
    Case.HandlingCode.AMBER: True,
    Case.HandlingCode.GREEN: True,
    Case.HandlingCode.CLEAR: True,
}
ROLE_GLOBAL: dict[str, frozenset[str]] = {
    "investigator": frozenset({"add_case"}),
    "prosecutor": frozenset(),
    "analyst": frozenset(),
    "supervisor": frozenset({"manage_members"}),
}

# Entities: every kind, protected ("P", a protected role) and unprotected ("U"), plus "H": an
# unprotected role held by a protected person (protected through its holder).
KIND_ABBR: dict[str, str] = {
    Entity.Kind.PERSON: "PERS",
    Entity.Kind.ORGANISATION: "ORG",
    Entity.Kind.PHONE: "PHONE",
    Entity.Kind.VEHICLE: "VEH",
    Entity.Kind.ACCOUNT: "ACCT",
    Entity.Kind.DOCUMENT: "DOC",
    Entity.Kind.ONLINE: "ONL",
    Entity.Kind.LOCATION: "LOC",
}
PROTECTED_ROLE: dict[str, str] = {
    Entity.Kind.PERSON: Entity.Role.VICTIM,
    Entity.Kind.ORGANISATION: Entity.Role.WITNESS,
    Entity.Kind.PHONE: Entity.Role.VICTIM,
    Entity.Kind.VEHICLE: Entity.Role.WITNESS,
    Entity.Kind.ACCOUNT: Entity.Role.INFORMANT,
    Entity.Kind.DOCUMENT: Entity.Role.VICTIM,
    Entity.Kind.ONLINE: Entity.Role.INFORMANT,
    Entity.Kind.LOCATION: Entity.Role.VICTIM,
}
UNPROTECTED_ROLE: dict[str, str] = {
    Entity.Kind.PERSON: Entity.Role.SUSPECT,
    Entity.Kind.ORGANISATION: Entity.Role.FACILITATOR,
    Entity.Kind.PHONE: Entity.Role.RECRUITER,
    Entity.Kind.VEHICLE: Entity.Role.TRANSPORTER,
    Entity.Kind.ACCOUNT: Entity.Role.FINANCIER,
    Entity.Kind.DOCUMENT: Entity.Role.SUSPECT,
    Entity.Kind.ONLINE: Entity.Role.RECRUITER,
    Entity.Kind.LOCATION: Entity.Role.OTHER,
}
HOLDABLE = {
    Entity.Kind.PHONE,
    Entity.Kind.VEHICLE,
    Entity.Kind.ACCOUNT,
    Entity.Kind.DOCUMENT,
    Entity.Kind.ONLINE,
}
CASE_INDEX = {code: index for index, code in enumerate(CASES)}
PHONE_PREFIX = {"PA": ("+507", "67"), "CR": ("+506", "87")}


def permute_token(text: str) -> str:
    """The permuted world's value for a protected text marker: as long as the marker plus one,
    and sorting after every marker (upper- or lower-case) where the marker sorts before."""
    return "Z" + text[::-1]


# The ``what`` of a marker held only by a record since removed: the history need not show
# its values (so no page need show it), but none may show it to those who may not see it.
REMOVED = "removed record"


def token(case: str, flag: str, field: str) -> str:
    """A text marker: ``LEAKMARK`` + case + flag (P protected, U not, H held by a protected
    holder, C case-level) + field."""
    return f"LEAKMARK{case}{flag}{field}"


def phone_number(case: str, flag: str, seq: int = 1, *, permuted: bool = False) -> str:
    """A valid mobile number of the case owner's country, distinct per case, flag and seq
    (``permuted``: another one, that sorts after every unpermuted number of the case)."""
    owner_country = _owner_country(case)
    prefix, lead = PHONE_PREFIX[owner_country]
    flag_digit = "PUH".index(flag) + (7 if permuted else 0)
    return f"{prefix}{lead}{CASE_INDEX[case]}{flag_digit}{seq:04d}"


def _owner_country(case: str) -> str:
    owner = CASES[case][0]
    return next(spec.country for spec in AGENCIES if spec.key == owner)


def birth_date(case: str, flag: str, *, permuted: bool = False) -> datetime.date:
    year = 1923 if flag == "P" else 1931
    month = 7 if flag == "P" else 3
    if permuted:
        year, month = 1987, 11
    return datetime.date(year, month, 10 + CASE_INDEX[case])


def coordinates(
    case: str, flag: str, seq: int = 1, *, permuted: bool = False
) -> tuple[Decimal, Decimal]:
    n = 100 + CASE_INDEX[case] * 10 + "PUH".index(flag) * 3 + seq + (700 if permuted else 0)
    return Decimal(f"8.{n:03d}457"), Decimal(f"-77.{n:03d}913")


# --- markers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """An identifying value of the world: ``text`` belongs to ``case``; ``protected`` if only
    those who may see the case's protected identities may see it."""

    text: str
    kind: str  # "token", "phone" (national digits), "literal"
    case: str
    protected: bool
    what: str
    variants: tuple[str, ...] = ()  # for literals: the forms a page may print


def date_variants(value: datetime.date) -> tuple[str, ...]:
    month = value.strftime("%B")
    return (
        value.isoformat(),
        value.strftime("%d/%m/%Y"),
        value.strftime("%m/%d/%Y"),
        value.strftime("%d.%m.%Y"),
        f"{month} {value.day}, {value.year}",
        f"{value.strftime('%b')}. {value.day}, {value.year}",
        f"{value.day} {month} {value.year}",
    )


def decimal_variants(value: Decimal) -> tuple[str, ...]:
    text = f"{value:f}"
    rounded = f"{value.quantize(Decimal('0.0001')):f}"
    return (text, text.replace(".", ","), rounded, rounded.replace(".", ","))


def phone_digits(number: str) -> str:
    """The national significant number: what any display of the number contains."""
    digits = re.sub(r"\D", "", number)
    for prefix, _lead in PHONE_PREFIX.values():
        code = prefix.lstrip("+")
        if digits.startswith(code):
            return digits[len(code) :]
    return digits


_TOKEN_RE = re.compile(r"leakmark[a-z0-9]*")
_PHONE_RE = re.compile(r"\+?\d(?:[ \-.()\u00a0]{0,2}\d){6,}")
_DECIMAL_RE = re.compile(r"-?\d+[.,]\d+")
_DATE_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}|\d{2}[/.]\d{2}[/.]\d{4}|[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}"
    r"|\d{1,2} [A-Z][a-z]{2,8} \d{4}"
)
_REFERENCE_RE = re.compile(r"[A-Z]{2}-\d{4}-\d{5}")
MIN_PREFIX = len("LEAKMARK") + 5  # a truncated token long enough to name case and flag


class Scanner:
    """Finds the markers in a response body (lenient: any text, any case)."""

    def __init__(self, markers: Iterable[Marker]) -> None:
        self.tokens: dict[str, str] = {}
        self.phones: dict[str, str] = {}
        self.literals: dict[str, str] = {}
        for marker in markers:
            if marker.kind == "token":
                self.tokens[marker.text.lower()] = marker.text
            elif marker.kind == "phone":
                self.phones[marker.text] = marker.text
            else:
                for variant in marker.variants or (marker.text,):
                    self.literals[variant] = marker.text

    def scan(self, body: str) -> set[str]:
        found: set[str] = set()
        lowered = body.lower()
        if "leakmark" in lowered:
            for match in set(_TOKEN_RE.findall(lowered)):
                exact = self.tokens.get(match)
                if exact is not None:
                    found.add(exact)
                    continue
                for known, text in self.tokens.items():
                    # A longer token that starts with a marker, or a truncated marker.
                    if match.startswith(known) or (
                        len(match) >= MIN_PREFIX and known.startswith(match)
                    ):
                        found.add(text)
        runs = {re.sub(r"\D", "", run) for run in _PHONE_RE.findall(body)}
        if runs:
            for digits in self.phones:
                if any(digits in run for run in runs):
                    found.add(digits)
        for regex in (_DECIMAL_RE, _DATE_RE, _REFERENCE_RE):
            for match in set(regex.findall(body)):
                literal = self.literals.get(match)
                if literal is not None:
                    found.add(literal)
        return found


# --- the oracle ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    username: str
    agency: str | None  # AgencySpec.key
    roles: tuple[str, ...]
    superuser: bool = False
    active: bool = True

    @property
    def anonymous(self) -> bool:
        return not self.active


class Oracle:
    """Who may see and do what, from the declaration above only."""

    def __init__(self, markers: list[Marker], personas: dict[str, Persona]) -> None:
        self.markers = markers
        self.personas = personas
        self.texts = {marker.text for marker in markers}
        self._allowed: dict[str, frozenset[str]] = {}

    @staticmethod
    def agency_actions(agency: str | None, case: str) -> frozenset[str]:
        if agency is None:
            return frozenset()
        if CASES[case][0] == agency:
            return LEVEL_ACTIONS["owner"]
        actions: set[str] = set()
        for share in SHARES:
            if share.case == case and share.agency == agency and share.state == LIVE:
                actions |= LEVEL_ACTIONS[share.level]
                if share.include_protected:
                    actions.add("view_protected")
        return frozenset(actions)

    def actions(self, username: str, case: str) -> frozenset[str]:
        persona = self.personas[username]
        if not persona.active:
            return frozenset()
        roles: set[str] = set()
        for role in persona.roles:
            roles |= ROLE_ACTIONS[role]
        return self.agency_actions(persona.agency, case) & roles

    def may(self, username: str, action: str, case: str) -> bool:
        return action in self.actions(username, case)

    def may_export(self, username: str, case: str) -> bool:
        """Whether the user may export the case: they may see it, and their agency owns it or
        the case's handling code lets recipients export."""
        if not self.may(username, "view", case):
            return False
        owner, code = CASES[case]
        return self.personas[username].agency == owner or EXPORT_BY_RECIPIENTS[code]

    def has_global(self, username: str, permission: str) -> bool:
        persona = self.personas[username]
        return persona.active and any(permission in ROLE_GLOBAL[role] for role in persona.roles)

    def ever_shared(self, agency: str | None, case: str) -> bool:
        return any(share.case == case and share.agency == agency for share in SHARES)

    def may_see_marker(self, username: str, marker: Marker) -> bool:
        actions = self.actions(username, marker.case)
        if "view" in actions and (not marker.protected or "view_protected" in actions):
            return True
        # Documented exception: an agency that was given a share keeps knowing the case's
        # reference (the grant, revocation and expiry notifications name it); nothing else.
        persona = self.personas[username]
        return (
            marker.what == "reference"
            and persona.active
            and self.ever_shared(persona.agency, marker.case)
        )

    def allowed(self, username: str) -> frozenset[str]:
        if username not in self._allowed:
            self._allowed[username] = frozenset(
                marker.text for marker in self.markers if self.may_see_marker(username, marker)
            )
        return self._allowed[username]

    def forbidden(self, username: str) -> frozenset[str]:
        return frozenset(self.texts - self.allowed(username))

    def describe(self, text: str) -> str:
        owners = [m for m in self.markers if m.text == text]
        return "; ".join(
            f"{m.what} of {m.case}{' (protected)' if m.protected else ''}" for m in owners
        )


# --- the built world -----------------------------------------------------------------------


@dataclass
class World:
    agencies: dict[str, Agency] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    personas: dict[str, Persona] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    # (case, flag, kind) -> entity; extra entities under (case, flag, "extra-name")
    entities: dict[tuple[str, str, str], Entity] = field(default_factory=dict)
    # Whether an entity (by pk) is protected in the oracle's eyes.
    entity_protected: dict[int, bool] = field(default_factory=dict)
    relationships: dict[tuple[str, str], Relationship] = field(default_factory=dict)
    movements: dict[tuple[str, str], Movement] = field(default_factory=dict)
    notes: dict[str, Note] = field(default_factory=dict)
    evidence: dict[tuple[str, str], Evidence] = field(default_factory=dict)
    shares: dict[tuple[str, str], CaseShare] = field(default_factory=dict)
    markers: list[Marker] = field(default_factory=list)
    # The spec of every share, by the key of ``shares``.
    share_specs: dict[tuple[str, str], "ShareSpec"] = field(default_factory=dict)
    # Every marker's value in this world and its label: the value it has in the unpermuted
    # world (the same in both worlds), with the forms a page may print it in:
    # (value, kind, label, variants).
    canaries: list[tuple[str, str, str, tuple[str, ...]]] = field(default_factory=list)
    permuted: bool = False
    oracle: Oracle | None = None
    scanner: Scanner | None = None
    built_at: datetime.datetime | None = None
    # Set by the test module: a signed-in test client per username (None: anonymous), and
    # the hits and common keys the application found.
    clients: dict[str | None, Any] = field(default_factory=dict)
    hits: list[Any] = field(default_factory=list)
    common_keys: list[Any] = field(default_factory=list)

    def case_code(self, case_pk: int) -> str:
        return next(code for code, case in self.cases.items() if case.pk == case_pk)

    def agency_key(self, agency_pk: int) -> str:
        return next(key for key, agency in self.agencies.items() if agency.pk == agency_pk)

    def record_protected(self, *entities: Entity) -> bool:
        return any(self.entity_protected[entity.pk] for entity in entities)


class WorldBuilder:
    """Builds the world; ``permuted``: the same world with every protected value (names,
    aliases, numbers, birth dates, coordinates, nationality, document type and country,
    protected notes and files) replaced by another that sorts differently (the permutation
    oracle of ``test_permutation``)."""

    def __init__(self, *, permuted: bool = False) -> None:
        self.world = World(permuted=permuted)
        self.permuted = permuted

    def mark(
        self,
        text: str,
        kind: str,
        case: str,
        protected: bool,
        what: str,
        *,
        label: str | None = None,
        **kw: Any,
    ) -> str:
        self.world.markers.append(Marker(text, kind, case, protected, what, **kw))
        self.world.canaries.append((text, kind, label or text, kw.get("variants", ())))
        return text

    def text_marker(self, case: str, flag: str, field: str, protected: bool, what: str) -> str:
        """A token marker; in the permuted world a protected one is permuted."""
        text = token(case, flag, field)
        value = permute_token(text) if self.permuted and protected else text
        return self.mark(value, "token", case, protected, what, label=text)

    def label_of(self, value: str) -> str:
        return next((c[2] for c in self.world.canaries if c[0] == value), value)

    # agencies and people

    def agencies_and_people(self) -> None:
        world = self.world
        user_model = get_user_model()
        for spec in AGENCIES:
            agency: Any = AgencyFactory(
                country=Country.objects.get(code=spec.country),
                name=spec.name,
                acronym=spec.key,
                kind=spec.kind,
                contact_point=spec.contact_point,
            )
            world.agencies[spec.key] = agency
            for role in ROLES:
                username = f"{spec.key.lower()}.{role}"
                user: Any = UserFactory(username=username)
                Member.objects.create(user=user, agency=agency, **{f"is_{role}": True})
                user.groups.add(agency.group)
                world.users[username] = user
                world.personas[username] = Persona(username, spec.key, (role,))
        # An installation administrator: no membership, so no case content anywhere.
        root = user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
        world.users["root"] = root
        world.personas["root"] = Persona("root", None, (), superuser=True)
        # A signed-in user who belongs to no agency.
        nobody: Any = UserFactory(username="nomember")
        world.users["nomember"] = nobody
        world.personas["nomember"] = Persona("nomember", None, ())
        # A former investigator of the owner agency: deactivated, still in the group.
        former: Any = UserFactory(username="papol.former")
        Member.objects.create(user=former, agency=world.agencies["PAPOL"], is_investigator=True)
        former.groups.add(world.agencies["PAPOL"].group)
        world.users["papol.former"] = former
        world.personas["papol.former"] = Persona(
            "papol.former", "PAPOL", ("investigator",), active=False
        )

    def actor(self, agency: str, role: str = "investigator") -> Any:
        return self.world.users[f"{agency.lower()}.{role}"]

    # cases and what is in them

    def cases(self) -> None:
        for code, (owner, handling) in CASES.items():
            title = self.mark(token(code, "C", "CASETITLE"), "token", code, False, "title")
            summary = self.mark(token(code, "C", "CASESUMMARY"), "token", code, False, "summary")
            case = services.case_create(
                actor=self.actor(owner),
                agency=self.world.agencies[owner],
                title=f"Operación {title}",
                kind=Case.Kind.BOTH,
                handling_code=handling,
                summary=f"Resumen: {summary}.",
                countries=[Country.objects.get(code=_owner_country(code))],
                opened_on=timezone.localdate() - datetime.timedelta(days=60),
            )
            self.world.cases[code] = case
            self.mark(case.reference, "literal", code, False, "reference")
            self.entities(code)
            self.records(code)

    def entity(self, code: str, flag: str, kind: str, **values: Any) -> Entity:
        case = self.world.cases[code]
        owner = CASES[code][0]
        access = selectors.case_access(self.actor(owner), case)
        entity = services.entity_add(access=access, kind=kind, **values)
        self.world.entity_protected[entity.pk] = flag in ("P", "H")
        return entity

    def entity_values(
        self, code: str, flag: str, kind: str, name_suffix: str = "", number: str = ""
    ) -> dict[str, Any]:
        """Values for one entity, every identifying field a marker."""
        protected = flag in ("P", "H")
        abbr = KIND_ABBR[kind] + name_suffix
        country = _owner_country(code)

        permute = self.permuted and protected

        def text(field: str) -> str:
            return self.text_marker(code, flag, abbr + field, protected, abbr)

        role = UNPROTECTED_ROLE[kind] if flag in ("U", "H") else PROTECTED_ROLE[kind]
        values: dict[str, Any] = {"role": role, "description": f"Nota: {text('DESC')}"}
        if kind == Entity.Kind.PERSON:
            born = birth_date(code, flag, permuted=permute)
            self.mark(
                born.isoformat(),
                "literal",
                code,
                protected,
                "birth date",
                label=birth_date(code, flag).isoformat(),
                variants=date_variants(born),
            )
            values.update(
                name=text("NAME"),
                aliases=text("ALIAS"),
                birth_date=born,
                # Not a marker: a quasi-identifier the permutation oracle must not find.
                nationality="VE" if permute else country,
            )
        elif kind == Entity.Kind.ORGANISATION:
            values.update(name=text("NAME"))
        elif kind == Entity.Kind.PHONE:
            if number:
                # Another entity's number (a match): the label that number has.
                label = self.label_of(phone_digits(number))
            else:
                label = phone_digits(phone_number(code, flag))
                number = phone_number(code, flag, permuted=permute)
            self.mark(phone_digits(number), "phone", code, protected, "phone number", label=label)
            values.update(identifier=number, identifier_country=country)
        elif kind == Entity.Kind.VEHICLE:
            values.update(
                name=text("NAME"), subtype="pickup", identifier=text("NUM"), identifier_country="PA"
            )
        elif kind == Entity.Kind.ACCOUNT:
            values.update(subtype="bank_account", identifier=text("NUM"), identifier_country="PA")
        elif kind == Entity.Kind.DOCUMENT:
            # Panama and Honduras have no national-ID validator: any alphanumeric passes.
            # The permuted world: another type and issuing country (quasi-identifiers).
            values.update(
                subtype="national_id" if permute else "passport",
                identifier=text("NUM"),
                identifier_country="PA" if permute else "HN",
            )
        elif kind == Entity.Kind.ONLINE:
            values.update(subtype="telegram", identifier=text("NUM").lower())
        elif kind == Entity.Kind.LOCATION:
            seq = 2 if name_suffix else 1
            latitude, longitude = coordinates(code, flag, seq, permuted=permute)
            for value, original in zip(
                (latitude, longitude), coordinates(code, flag, seq), strict=True
            ):
                self.mark(
                    f"{value:f}",
                    "literal",
                    code,
                    protected,
                    "coordinate",
                    label=f"{original:f}",
                    variants=decimal_variants(value),
                )
            values.update(
                name=text("NAME"),
                subtype="safe_house" if protected else "border_crossing",
                identifier_country=country,
                latitude=latitude,
                longitude=longitude,
            )
        return values

    def entities(self, code: str) -> None:
        world = self.world
        for flag in ("P", "U"):
            for first in (Entity.Kind.PERSON, Entity.Kind.ORGANISATION):
                world.entities[(code, flag, first)] = self.entity(
                    code, flag, first, **self.entity_values(code, flag, first)
                )
            holder = world.entities[(code, flag, Entity.Kind.PERSON)]
            for kind in KIND_ABBR:
                if kind in (Entity.Kind.PERSON, Entity.Kind.ORGANISATION):
                    continue
                values = self.entity_values(code, flag, kind)
                if kind in HOLDABLE:
                    values["holder"] = holder
                world.entities[(code, flag, kind)] = self.entity(code, flag, kind, **values)
        # A second unprotected place, for a movement that touches nothing protected.
        world.entities[(code, "U", "location2")] = self.entity(
            code,
            "U",
            Entity.Kind.LOCATION,
            **self.entity_values(code, "U", Entity.Kind.LOCATION, name_suffix="B"),
        )
        # Protected through its holder: a suspect-role document held by the victim.
        values = self.entity_values(code, "H", Entity.Kind.DOCUMENT)
        values["holder"] = world.entities[(code, "P", Entity.Kind.PERSON)]
        world.entities[(code, "H", Entity.Kind.DOCUMENT)] = self.entity(
            code, "H", Entity.Kind.DOCUMENT, **values
        )

    def records(self, code: str) -> None:
        world = self.world
        case = world.cases[code]
        actor = self.actor(CASES[code][0])
        access = selectors.case_access(actor, case)
        entity = world.entities
        person_p, person_u = entity[(code, "P", "person")], entity[(code, "U", "person")]
        org_u = entity[(code, "U", "organisation")]
        # Free text about a protected person is protected too (it may name them).
        world.relationships[(code, "P")] = services.relationship_add(
            access=access,
            source=person_u,
            target=person_p,
            kind=Relationship.Kind.RECRUITS,
            evidence_note=self.text_marker(code, "P", "REL1NOTE", True, "rel"),
            source_reliability="B",
            information_assessment="2",
        )
        world.relationships[(code, "U")] = services.relationship_add(
            access=access,
            source=person_u,
            target=org_u,
            kind=Relationship.Kind.MEMBER_OF,
            evidence_note=self.mark(token(code, "U", "REL2NOTE"), "token", code, False, "rel"),
        )
        moved_on = timezone.localdate() - datetime.timedelta(days=30)
        world.movements[(code, "P")] = services.movement_add(
            access=access,
            origin=entity[(code, "U", "location")],
            destination=entity[(code, "P", "location")],
            moved_on=moved_on,
            means=Movement.Means.BOAT,
            people_count=12,
            facilitators=[person_u, person_p],
            description=self.text_marker(code, "P", "MOVEDESC", True, "move"),
        )
        world.movements[(code, "U")] = services.movement_add(
            access=access,
            origin=entity[(code, "U", "location")],
            destination=entity[(code, "U", "location2")],
            moved_on=moved_on,
            means=Movement.Means.BUS,
            people_count=3,
            facilitators=[person_u],
            description=self.mark(token(code, "U", "MOVEDESC"), "token", code, False, "move"),
        )
        # Protected only through a protected facilitator: both places are unprotected.
        world.movements[(code, "F")] = services.movement_add(
            access=access,
            origin=entity[(code, "U", "location2")],
            destination=entity[(code, "U", "location")],
            moved_on=moved_on,
            means=Movement.Means.CAR,
            people_count=2,
            facilitators=[org_u, person_p],
            description=self.text_marker(code, "F", "MOVEDESC", True, "move"),
        )
        # Notes are free text that no one can mask: visible to all who see the case.
        world.notes[code] = services.note_add(
            access=access,
            body=self.mark(token(code, "C", "NOTEBODY"), "token", code, False, "note"),
        )
        for flag in ("P", "U"):
            protected = flag == "P"
            name = self.text_marker(code, flag, "EVIDNAME", protected, "evidence")
            description = self.text_marker(code, flag, "EVIDDESC", protected, "evidence")
            body = self.text_marker(code, flag, "EVIDBODY", protected, "evidence")
            upload = SimpleUploadedFile(
                f"{name}.txt", f"Declaración: {body}\n".encode(), content_type="text/plain"
            )
            world.evidence[(code, flag)] = self.evidence_add(access, upload, description, protected)

    @staticmethod
    def evidence_add(
        access: selectors.CaseAccess, upload: Any, description: str, protected: bool
    ) -> Evidence:
        return services.evidence_add(
            access=access, upload=upload, description=description, protected=protected
        )

    # hits: values shared between cases

    def matching_entities(self) -> None:
        """Entities of Costa Rica's case that share a phone with Panama's cases (hits), and an
        organisation name shared by two Panamanian cases (a hit both sides may see)."""
        world = self.world
        red_phone = world.entities[("RED", "U", Entity.Kind.PHONE)]
        amb_phone = world.entities[("AMB", "P", Entity.Kind.PHONE)]
        # The number of RED's victim, in a case of an agency that may not see RED: Panama's
        # police lets its owners decide on matches with its protected identities, so this is
        # a hit told to those of Panama's police who may see RED's victim, and to nobody of
        # Costa Rica's (issue 7 §3): what a hit reveals about the other side.
        red_victim_phone = world.entities[("RED", "P", Entity.Kind.PHONE)]
        world.agencies["PAPOL"].protected_match_policy = Agency.ProtectedMatchPolicy.OWNER_DECIDES
        world.agencies["PAPOL"].save(update_fields=["protected_match_policy"])
        for suffix, other in (("X", red_phone), ("Y", amb_phone), ("W", red_victim_phone)):
            # The shared number is a marker of both cases: each side's own value.
            values = self.entity_values(
                "CRC", "U", Entity.Kind.PHONE, name_suffix=suffix, number=other.identifier
            )
            values["identifier_country"] = "PA"
            values["holder"] = world.entities[("CRC", "U", Entity.Kind.PERSON)]
            world.entities[("CRC", "U", f"phone{suffix}")] = self.entity(
                "CRC", "U", Entity.Kind.PHONE, **values
            )
        # A bus company's switchboard: held by more entities than the hit limit (3 in the leak
        # test), so it becomes a common key and produces no hits.
        switchboard = "+50767990000"
        for code in ("CLR", "GRN", "RED", "CRC"):
            values = self.entity_values(
                code, "U", Entity.Kind.PHONE, name_suffix="Z", number=switchboard
            )
            world.entities[(code, "U", "phoneZ")] = self.entity(
                code, "U", Entity.Kind.PHONE, **values
            )
        shared_name = token("PA", "U", "SHAREDORGNAME")
        for code in ("CLR", "GRN"):
            self.mark(shared_name, "token", code, False, "organisation name")
            world.entities[(code, "U", "organisation2")] = self.entity(
                code,
                "U",
                Entity.Kind.ORGANISATION,
                role=Entity.Role.FACILITATOR,
                name=shared_name,
            )

    # shares

    def shares(self) -> None:
        """Phase 1: every share not marked ``later`` (REVOKED ones revoked at once); phase 2:
        the ``later`` ones, after the re-shares made from them: revoked, or made (replacing
        the share the agency held)."""
        now = timezone.now()
        for spec in SHARES:
            if not spec.later or spec.state == REVOKED:
                self.share(spec, now)
        for spec in SHARES:
            if spec.later and spec.state == REVOKED:
                self.revoke(spec)
            elif spec.later:
                self.share(spec, now)

    def share(self, spec: ShareSpec, now: datetime.datetime) -> None:
        case = self.world.cases[spec.case]
        purpose = self.mark(
            token(spec.case, "C", f"PURPOSE{spec.agency}{spec.tag.strip('#')}"),
            "token",
            spec.case,
            False,
            "share purpose",
        )
        expires_at = None
        if spec.state == EXPIRED and spec.granted_by == CASES[spec.case][0]:
            expires_at = now + EXPIRED_AFTER
        elif spec.expires_in_days:
            expires_at = now + datetime.timedelta(days=spec.expires_in_days)
        # A re-share without an expiry ends with the share it came from.
        share = services.case_share(
            access=selectors.case_access(self.actor(spec.granted_by, "supervisor"), case),
            agency=self.world.agencies[spec.agency],
            level=spec.level,
            purpose=f"Propósito: {purpose}",
            expires_at=expires_at,
            include_protected=spec.include_protected,
        )
        self.world.shares[(spec.case, spec.key)] = share
        self.world.share_specs[(spec.case, spec.key)] = spec
        if spec.state == REVOKED and not spec.later:
            self.revoke(spec)

    def revoke(self, spec: ShareSpec) -> None:
        share = self.world.shares[(spec.case, spec.key)]
        actor = self.actor(CASES[spec.case][0], "supervisor")
        services.share_revoke(access=selectors.case_access(actor, share.case), share=share)

    # a world that edits

    def person(self, code: str, flag: str, field: str, role: str, protected: bool) -> Entity:
        name = self.text_marker(code, flag, field, protected, "person")
        entity = self.entity(code, flag, Entity.Kind.PERSON, role=role, name=name)
        return entity

    def edits(self, code: str = "AMB") -> None:
        """Entities of the most shared case that change after they were recorded, through the
        services: role changes both ways, renames, a changed number, a relationship and a
        movement re-pointed. A value an entity held while protected, and every value of an
        entity protected now, is protected (the history shows them all)."""
        world = self.world
        case = world.cases[code]
        actor = self.actor(CASES[code][0])
        access = selectors.case_access(actor, case)
        role = Entity.Role
        # A victim later recorded as a witness, renamed: protected throughout.
        v2w = self.person(code, "P", "V2WNAME", role.VICTIM, True)
        # A victim later recorded as "other", renamed: the old name stays protected.
        v2o = self.person(code, "P", "V2ONAME", role.VICTIM, True)
        # A suspect who becomes an informant, renamed: every name it had is protected now.
        s2i = self.person(code, "P", "S2INAME", role.SUSPECT, True)
        # A number held by the victim, changed: both numbers protected.
        first, second = (phone_number(code, "P", seq, permuted=self.permuted) for seq in (2, 3))
        for number, seq in ((first, 2), (second, 3)):
            self.mark(
                phone_digits(number),
                "phone",
                code,
                True,
                "phone number",
                label=phone_digits(phone_number(code, "P", seq)),
            )
        phone = self.entity(
            code, "P", Entity.Kind.PHONE, role=role.OTHER, identifier=first, holder=v2w,
            identifier_country=_owner_country(code),
        )  # fmt: skip
        # Recorded while the informant was a suspect; protected through it now.
        person_u = world.entities[(code, "U", "person")]
        world.movements[(code, "S")] = services.movement_add(
            access=access,
            origin=world.entities[(code, "U", "location")],
            destination=world.entities[(code, "U", "location2")],
            moved_on=timezone.localdate() - datetime.timedelta(days=20),
            means=Movement.Means.TRUCK,
            people_count=4,
            facilitators=[s2i, person_u],
            description=self.text_marker(code, "S", "MOVEDESC", True, "move"),
        )
        old_link = services.relationship_add(
            access=access,
            source=person_u,
            target=v2w,
            kind=Relationship.Kind.RECRUITS,
            evidence_note=self.text_marker(code, "P", "REPOINTNOTEA", True, REMOVED),
        )
        services.entity_update(
            access=access,
            entity=v2w,
            role=role.WITNESS,
            name=self.text_marker(code, "P", "V2WNEWNAME", True, "person"),
        )
        services.entity_update(
            access=access,
            entity=v2o,
            role=role.OTHER,
            name=self.text_marker(code, "U", "V2ONEWNAME", False, "person"),
        )
        services.entity_update(
            access=access,
            entity=s2i,
            role=role.INFORMANT,
            name=self.text_marker(code, "P", "S2INEWNAME", True, "person"),
        )
        services.entity_update(access=access, entity=phone, identifier=second)
        # Re-pointed: the link to the witness removed, one to the informant recorded.
        services.relationship_remove(access=access, relationship=old_link)
        world.relationships[(code, "R")] = services.relationship_add(
            access=access,
            source=person_u,
            target=s2i,
            kind=Relationship.Kind.EMPLOYS,
            evidence_note=self.text_marker(code, "P", "REPOINTNOTEB", True, "rel"),
        )
        for name, entity, protected in (
            ("v2w", v2w, True),
            ("v2o", v2o, False),
            ("s2i", s2i, True),
            ("phone2", phone, True),
        ):
            flag = "P" if protected else "U"
            world.entities[(code, flag, name)] = entity
            world.entity_protected[entity.pk] = protected

    def build(self) -> World:
        self.agencies_and_people()
        self.cases()
        self.edits()
        self.matching_entities()
        self.shares()
        world = self.world
        check_markers(world.markers)
        world.oracle = Oracle(world.markers, world.personas)
        world.scanner = Scanner(world.markers)
        world.built_at = timezone.now()
        return world


def check_markers(markers: list[Marker]) -> None:
    """No token marker may be a prefix of another: a found token names one marker."""
    tokens = sorted({m.text.lower() for m in markers if m.kind == "token"})
    for first, second in zip(tokens, tokens[1:], strict=False):
        assert not second.startswith(first), f"marker {first} is a prefix of {second}"


def build_world(*, permuted: bool = False) -> World:
    return WorldBuilder(permuted=permuted).build()
