"""Case pages. Each view: decorators, fetch through a selector, validate, call one service."""

from cases.views.case import case_create, case_detail, case_edit, case_list
from cases.views.entities import entity_add, entity_detail, entity_edit, entity_remove
from cases.views.export import case_export
from cases.views.history import case_history, case_timeline
from cases.views.hits import common_key_mark, common_key_restore, common_keys, hit_dismiss, hits
from cases.views.records import (
    evidence_add,
    evidence_detail,
    evidence_download,
    movement_add,
    movement_remove,
    note_add,
    relationship_add,
    relationship_remove,
)
from cases.views.sharing import case_shares, share_revoke

__all__ = [
    "case_create",
    "case_detail",
    "case_edit",
    "case_export",
    "case_history",
    "case_list",
    "case_shares",
    "case_timeline",
    "common_key_mark",
    "common_key_restore",
    "common_keys",
    "entity_add",
    "entity_detail",
    "entity_edit",
    "entity_remove",
    "evidence_add",
    "evidence_detail",
    "evidence_download",
    "hit_dismiss",
    "hits",
    "movement_add",
    "movement_remove",
    "note_add",
    "relationship_add",
    "relationship_remove",
    "share_revoke",
]
