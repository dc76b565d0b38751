"""The demo agencies (real names, fictitious contact points) and their members, with stable
usernames; and how the demo and the synthetic generator create them when missing."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from casebook import accounts
from casebook import services as agency_services
from casebook.models import Agency, Country, Member, PasswordLink


@dataclass(frozen=True)
class AgencySpec:
    key: str
    country: str
    name: str
    acronym: str
    kind: str
    contact_point: str


AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec(
        "senafront", "PA", "Servicio Nacional de Fronteras", "SENAFRONT", Agency.Kind.BORDER,
        "Dirección de Inteligencia, enlace Casebook (enlace@senafront.example)",
    ),
    AgencySpec(
        "mp_pa", "PA", "Ministerio Público de Panamá", "MP", Agency.Kind.PROSECUTION,
        "Fiscalía Especializada contra la Delincuencia Organizada (fedo@ministeriopublico.example)",
    ),
    AgencySpec(
        "oij", "CR", "Organismo de Investigación Judicial", "OIJ", Agency.Kind.POLICE,
        "Sección de Trata de Personas y Tráfico Ilícito de Migrantes (trata@oij.example)",
    ),
    AgencySpec(
        "factra", "CR",
        "Ministerio Público de Costa Rica: Fiscalía Adjunta contra la Trata de Personas y el "
        "Tráfico Ilícito de Migrantes",
        "FACTRA", Agency.Kind.PROSECUTION,
        "Fiscal adjunta de turno (factra@ministeriopublico-cr.example)",
    ),
    AgencySpec(
        "dijin", "CO", "Dirección de Investigación Criminal e INTERPOL", "DIJIN",
        Agency.Kind.POLICE,
        "Grupo de Tráfico de Migrantes y Trata de Personas (migrantes@dijin.example)",
    ),
    AgencySpec(
        "pnc_gt", "GT", "Policía Nacional Civil", "PNC", Agency.Kind.POLICE,
        "División Especializada en Investigación Criminal (deic@pnc-gt.example)",
    ),
    AgencySpec(
        "dpi_hn", "HN", "Dirección Policial de Investigaciones", "DPI", Agency.Kind.POLICE,
        "Unidad contra la Trata y el Tráfico de Personas (trata@dpi-hn.example)",
    ),
    AgencySpec(
        "fgr", "MX", "Fiscalía General de la República", "FGR", Agency.Kind.PROSECUTION,
        "Unidad Especializada en Investigación de Tráfico de Menores, Personas y Órganos "
        "(enlace@fgr.example)",
    ),
    AgencySpec(
        "regional", "PA", "Unidad Regional de Análisis sobre Trata y Tráfico (demo)", "URA",
        Agency.Kind.REGIONAL,
        "Mesa de análisis regional (analisis@ura.example)",
    ),
)  # fmt: skip
AGENCY_BY_KEY = {spec.key: spec for spec in AGENCIES}


@dataclass(frozen=True)
class MemberSpec:
    username: str
    agency: str
    roles: tuple[str, ...]
    first_name: str
    last_name: str


MEMBERS: tuple[MemberSpec, ...] = (
    MemberSpec("investigator.pa", "senafront", ("investigator",), "Ricardo", "Batista"),
    MemberSpec("supervisor.pa", "senafront", ("supervisor",), "Itzel", "Castillo"),
    MemberSpec("analyst.pa", "senafront", ("analyst",), "Jorge", "Quintero"),
    MemberSpec("prosecutor.pa", "mp_pa", ("prosecutor",), "Marisol", "Cedeño"),
    MemberSpec("supervisor.mp.pa", "mp_pa", ("supervisor",), "Eduardo", "Solís"),
    MemberSpec("investigator.cr", "oij", ("investigator",), "Andrea", "Chaves"),
    MemberSpec("supervisor.cr", "oij", ("supervisor",), "Mauricio", "Araya"),
    MemberSpec("prosecutor.cr", "factra", ("prosecutor",), "Gabriela", "Mora"),
    MemberSpec("supervisor.factra.cr", "factra", ("supervisor",), "Rodrigo", "Jiménez"),
    MemberSpec("investigator.co", "dijin", ("investigator",), "Camilo", "Restrepo"),
    MemberSpec("supervisor.co", "dijin", ("supervisor",), "Liliana", "Gómez"),
    MemberSpec("investigator.gt", "pnc_gt", ("investigator",), "Byron", "Cifuentes"),
    MemberSpec("supervisor.gt", "pnc_gt", ("supervisor",), "Claudia", "Ixcot"),
    MemberSpec("investigator.hn", "dpi_hn", ("investigator",), "Wilmer", "Zelaya"),
    MemberSpec("supervisor.hn", "dpi_hn", ("supervisor",), "Karla", "Mejía"),
    MemberSpec("prosecutor.mx", "fgr", ("prosecutor",), "Alejandra", "Villaseñor"),
    MemberSpec("supervisor.mx", "fgr", ("supervisor",), "Héctor", "Ruiz"),
    MemberSpec("analyst.regional", "regional", ("analyst",), "Natalia", "Pinzón"),
    MemberSpec("supervisor.regional", "regional", ("supervisor",), "Esteban", "Arosemena"),
    # Who opens the cases of the agencies whose personas above may not (the services refuse
    # a case opened by a member whose roles do not allow it): their case officers.
    MemberSpec("investigator.mp.pa", "mp_pa", ("investigator",), "Aurelio", "Pinilla"),
    MemberSpec("investigator.factra.cr", "factra", ("investigator",), "Silvia", "Rojas"),
    MemberSpec("investigator.mx", "fgr", ("investigator",), "Ramiro", "Castañeda"),
    MemberSpec("investigator.regional", "regional", ("investigator",), "Inés", "Barrios"),
)
DEMO_USERNAMES = tuple(spec.username for spec in MEMBERS)
# A member added by a supervisor who has not chosen a password yet: seed_demo prints their
# one-time link, to show enrolment. Not a demo user: no demo password, no exemption.
NEWCOMER = MemberSpec("newcomer.pa", "senafront", ("analyst",), "Nuria", "Vega")
NEWCOMER_ADDED_BY = "supervisor.pa"
# Who records each agency's demo cases.
CASE_AUTHORS = {
    "senafront": "investigator.pa",
    "mp_pa": "investigator.mp.pa",
    "oij": "investigator.cr",
    "factra": "investigator.factra.cr",
    "dijin": "investigator.co",
    "pnc_gt": "investigator.gt",
    "dpi_hn": "investigator.hn",
    "fgr": "investigator.mx",
    "regional": "investigator.regional",
}


def ensure_agency(spec: AgencySpec) -> tuple[Agency, bool]:
    """The agency of ``spec`` (recognised by country and name), created if missing; and
    whether it was created."""
    existing = Agency.objects.filter(country_id=spec.country, name=spec.name).first()
    if existing is not None:
        return existing, False
    agency = agency_services.agency_create(
        name=spec.name,
        country=Country.objects.get(pk=spec.country),
        kind=spec.kind,
        acronym=spec.acronym,
        contact_point=spec.contact_point,
    )
    return agency, True


class DemoConflict(Exception):
    """Existing data stands in the way of the demo (a demo username taken by someone else)."""


def ensure_member(
    *, username: str, agency: Agency, roles: Sequence[str], names: tuple[str, str], password: str
) -> tuple[Any, bool]:
    """The user ``username`` (created as a member of ``agency`` if missing). ``password`` is
    an already hashed password, or "" for an unusable one."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is not None:
        if not Member.objects.filter(user=user, agency=agency).exists():
            raise DemoConflict(
                f"the user {username!r} exists but is not a member of {agency}; the demo needs "
                "that username for that agency."
            )
        return user, False
    user = user_model(
        username=username,
        first_name=names[0],
        last_name=names[1],
        email=f"{username}@casebook.example",
    )
    if password:
        user.password = password
    else:
        user.set_unusable_password()
    user.save()
    agency_services.member_enrol(actor=None, user=user, agency=agency, roles=roles)
    return user, True


def hashed_demo_password(password: str | None) -> str:
    """Hash the demo password once for all demo users (hashing is deliberately slow);
    "" when the users should get an unusable password."""
    return make_password(password) if password else ""


def ensure_newcomer(*, base_url: str) -> str | None:
    """Add the demo newcomer (as the demo supervisor would) if missing, and issue them a new
    one-time link to choose their password; returns its URL, or None once they chose one."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=NEWCOMER.username).first()
    supervisor = user_model.objects.get(username=NEWCOMER_ADDED_BY)
    if user is None:
        agency = Agency.objects.get(members__user=supervisor)
        member = agency_services.member_add(
            actor=supervisor,
            agency=agency,
            username=NEWCOMER.username,
            first_name=NEWCOMER.first_name,
            last_name=NEWCOMER.last_name,
            email=f"{NEWCOMER.username}@casebook.example",
            roles=NEWCOMER.roles,
            base_url=base_url,
            send_link=False,
        )
        user = member.user
    if user.has_usable_password():
        return None
    token = accounts.password_link_issue(
        user=user, purpose=PasswordLink.Purpose.ENROL, actor=supervisor
    )
    return accounts.password_link_url(token, base_url=base_url)
