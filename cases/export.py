"""A case as one JSON document, for analysts and prosecutors to take into their own tools.

``case_export`` is what every channel calls (the page today, an API tomorrow): it takes the
``CaseAccess`` from ``selectors.get_case_access``, refuses what the handling code forbids the
user's agency to export, reads the records with ``selectors.case_records`` (masked for that
user) and writes the export, or its refusal, to the access log. The document itself is built
by pure functions over what the selectors returned. What those masked stays masked:
a victim, witness or informant appears under the pseudonym the case page shows, with no
identifying value or quasi-identifier (nationality, type, issuing country), and a protected
evidence file under its pseudonym, without its name, description, content type, size (null)
or SHA-256 (empty). Every array is in the order the selectors give, which for a reader who
sees pseudonyms never depends on a masked value (``selectors.entity_ordering``). Nothing here
reads the database but ``case_export``'s call of the selectors, which load every relation
used below (ends, places, facilitators, holders, authors, uploaders).

Whether the user may export at all is ``cases.rules.may_export``; ``case_export`` asks it.

The document's keys are the same for every case and every reader (a masked entity has the
same keys as an unmasked one, with empty values), so that a tool reading one export reads
them all. ``FORMAT`` and ``VERSION`` name the layout; add a key, raise the version.
"""

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casebook import access as access_log
from casebook.models import AccessLog, Agency, Country
from cases import protection, rules, selectors
from cases.models import Case, Entity, Evidence, Movement, Note, Relationship
from cases.permissions import CaseAccess
from cases.selectors import CaseRecords

FORMAT = "casebook.case-export"
VERSION = 1

# What each TLP 2.0 label asks of whoever holds the export (FIRST's definitions, in our words).
TLP_MEANINGS: dict[str, Promise] = {
    Case.HandlingCode.CLEAR: gettext_lazy(
        "There is no limit on disclosure: recipients may share this with anyone."
    ),
    Case.HandlingCode.GREEN: gettext_lazy(
        "Limited disclosure: recipients may share this within their community, "
        "not through public channels."
    ),
    Case.HandlingCode.AMBER: gettext_lazy(
        "Limited disclosure: recipients may share this only on a need-to-know basis within "
        "their own organisation and with those it works for."
    ),
    Case.HandlingCode.AMBER_STRICT: gettext_lazy(
        "Limited disclosure: recipients may share this only within their own organisation."
    ),
    Case.HandlingCode.RED: gettext_lazy(
        "For the eyes and ears of the individual recipients only: no further disclosure."
    ),
}


def tlp_label(case: Case) -> str:
    """ "TLP:AMBER+STRICT": the label the export is marked with."""
    return str(Case.HandlingCode(case.handling_code).label)


def refusal_message(case: Case) -> str:
    """Why the user's agency may not export ``case`` (``sharing.may_export`` said no)."""
    return _("Under %(code)s the case may not be exported by agencies it is shared with.") % {
        "code": tlp_label(case)
    }


def filename(case: Case) -> str:
    return f"{case.reference}.json"


class ExportRefused(Exception):
    """The handling code forbids the user's agency to export the case; ``message`` says so
    in the user's words (``refusal_message``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CaseExport:
    filename: str
    content: bytes


def case_export(access: CaseAccess, *, at: datetime.datetime) -> CaseExport:
    """The export of the case of ``access`` as its member may see it, made at ``at``, written
    to the access log; ``ExportRefused`` (written to the access log as a refused export)
    where the handling code forbids the member's agency to export it."""
    user, case = access.user, access.case
    if not rules.may_export(user, case):
        message = refusal_message(case)
        access_log.record_refusal(user=user, case=case, action="export", detail=message)
        raise ExportRefused(message)
    document = case_document(
        access=access,
        exporter_agency=user.member.agency,
        exported_at=at,
        records=selectors.case_records(access),
    )
    access_log.record(
        action=AccessLog.Action.EXPORT, object_type="case", case=case, object_uuid=case.uuid
    )
    return CaseExport(filename=filename(case), content=render(document))


def case_document(
    *,
    access: CaseAccess,
    exporter_agency: Agency,
    exported_at: datetime.datetime,
    records: CaseRecords,
) -> dict[str, Any]:
    """The export of the case of ``access`` as its member (of ``exporter_agency``) may see
    it, made at ``exported_at``: a header, the case, and what is recorded under it
    (``records``, from ``selectors.case_records`` read with ``access``)."""
    case = access.case
    return {
        "header": _header(access, exporter_agency, exported_at),
        "case": _case(case, records.countries),
        "entities": [_entity(entity) for entity in records.entities],
        "relationships": [_relationship(relationship) for relationship in records.relationships],
        "movements": [_movement(movement) for movement in records.movements],
        "notes": [_note(note) for note in records.notes],
        "evidence": [_evidence(file) for file in records.evidence],
    }


def render(document: dict[str, Any]) -> bytes:
    """The document as UTF-8 JSON, indented for people who open it in an editor."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


# --- parts -----------------------------------------------------------------------------------


def _header(access: CaseAccess, agency: Agency, at: datetime.datetime) -> dict[str, Any]:
    case, user = access.case, access.user
    code = case.handling_code
    return {
        "format": FORMAT,
        "version": VERSION,
        "tlp": tlp_label(case),
        "tlp_meaning": str(TLP_MEANINGS[code]),
        "case_reference": case.reference,
        "exported_at": _utc(at),
        "exported_by": {"username": user.get_username(), "agency": _agency(agency)},
        "protected_identities_masked": not access.sees_protected,
    }


def _case(case: Case, countries: Iterable[Country]) -> dict[str, Any]:
    lead = case.lead_officer
    return {
        "uuid": str(case.uuid),
        "reference": case.reference,
        "title": case.title,
        "kind": case.kind,
        "status": case.status,
        "handling_code": case.handling_code,
        "summary": case.summary,
        "opened_on": _date(case.opened_on),
        "closed_on": _date(case.closed_on),
        "created_at": _utc(case.created_at),
        "updated_at": _utc(case.updated_at),
        "lead_officer": lead.get_username() if lead is not None else None,
        "owner_agency": _agency(case.owner_agency),
        "countries": [{"code": country.code, "name": country.name} for country in countries],
    }


def _agency(agency: Agency) -> dict[str, Any]:
    return {
        "name": agency.name,
        "acronym": agency.acronym,
        "kind": agency.kind,
        "country": agency.country_id,
    }


def _entity(entity: Entity) -> dict[str, Any]:
    return {
        "uuid": str(entity.uuid),
        "kind": entity.kind,
        "role": entity.role,
        "subtype": entity.subtype,
        "label": entity.label,
        "name": entity.name,
        "aliases": [line.strip() for line in entity.aliases.splitlines() if line.strip()],
        "birth_date": _date(entity.birth_date),
        "nationality": entity.nationality,
        "identifier": entity.identifier,
        "identifier_country": entity.identifier_country,
        "holder": str(entity.holder.uuid) if entity.holder is not None else None,
        "latitude": _coordinate(entity.latitude),
        "longitude": _coordinate(entity.longitude),
        "description": entity.description,
        "protected": protection.shown_as_protected(entity),
        "masked": protection.is_masked(entity),
    }


def _relationship(relationship: Relationship) -> dict[str, Any]:
    return {
        "uuid": str(relationship.uuid),
        "source": str(relationship.source.uuid),
        "target": str(relationship.target.uuid),
        "kind": relationship.kind,
        "started_on": _date(relationship.started_on),
        "ended_on": _date(relationship.ended_on),
        "source_reliability": relationship.source_reliability,
        "information_assessment": relationship.information_assessment,
        "grading": relationship.grading,
        "evidence_note": relationship.evidence_note,
        "masked": protection.is_masked(relationship),
    }


def _movement(movement: Movement) -> dict[str, Any]:
    return {
        "uuid": str(movement.uuid),
        "origin": str(movement.origin.uuid),
        "destination": str(movement.destination.uuid),
        "moved_on": _date(movement.moved_on),
        "means": movement.means,
        "people_count": movement.people_count,
        # ``all()`` reads the prefetched (and masked) facilitators, in the reader's order of
        # entities (``selectors.entity_ordering``): no query.
        "facilitators": [str(entity.uuid) for entity in movement.facilitators.all()],
        "description": movement.description,
        "masked": protection.is_masked(movement),
    }


def _note(note: Note) -> dict[str, Any]:
    return {
        "uuid": str(note.uuid),
        "noted_on": _date(note.noted_on),
        "body": note.body,
        "author": note.author.get_username(),
        "created_at": _utc(note.created_at),
    }


def _evidence(evidence: Evidence) -> dict[str, Any]:
    """Metadata only: the file's bytes never go into an export."""
    return {
        "uuid": str(evidence.uuid),
        "name": evidence.original_name,
        "size": evidence.size,
        "sha256": evidence.sha256,
        "content_type": evidence.content_type,
        "description": evidence.description,
        "protected": evidence.protected,
        "masked": protection.is_masked(evidence),
        "uploaded_by": evidence.uploaded_by.get_username(),
        "uploaded_at": _utc(evidence.uploaded_at),
    }


# --- values ----------------------------------------------------------------------------------


def _utc(value: datetime.datetime | None) -> str | None:
    """ISO 8601 in UTC, to the second, with a "Z"."""
    if value is None:
        return None
    utc = value.astimezone(datetime.UTC).replace(microsecond=0)
    return utc.isoformat().replace("+00:00", "Z")


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _coordinate(value: Decimal | None) -> float | None:
    # A number, as GIS tools expect; six decimals (about 10 cm) survive a float exactly enough.
    return float(value) if value is not None else None
