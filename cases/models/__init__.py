"""Cases and everything recorded under them.

Every model here keeps its full history (django-simple-history) except the derived match keys,
which are rebuilt from entities, and the custody log, which is itself append-only. Reads go
through ``cases.selectors``; writes through ``cases.services``.
"""

from cases.models.case import (
    Case,
    CaseCountry,
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
    ReferenceSequence,
)
from cases.models.entities import Entity, MatchKey
from cases.models.events import CaseEvent, EventDelivery
from cases.models.hits import CommonKey, Hit, HitDetection, HitDismissal
from cases.models.records import (
    CustodyEntry,
    Evidence,
    Movement,
    MovementFacilitator,
    Note,
    Relationship,
    evidence_path,
)
from cases.models.sharing import CaseShare

__all__ = [
    "Case",
    "CaseCountry",
    "CaseEvent",
    "CaseGroupObjectPermission",
    "CaseShare",
    "CommonKey",
    "CaseUserObjectPermission",
    "CustodyEntry",
    "Entity",
    "EventDelivery",
    "Evidence",
    "Hit",
    "HitDetection",
    "HitDismissal",
    "MatchKey",
    "Movement",
    "MovementFacilitator",
    "Note",
    "ReferenceSequence",
    "Relationship",
    "evidence_path",
]
