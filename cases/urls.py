from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("hits/", views.hits, name="hits"),
    path("hits/<uuid:hit>/dismiss/", views.hit_dismiss, name="hit_dismiss"),
    path("hits/common-keys/", views.common_keys, name="common_keys"),
    path("hits/common-keys/<uuid:key>/mark/", views.common_key_mark, name="common_key_mark"),
    path(
        "hits/common-keys/<uuid:key>/restore/",
        views.common_key_restore,
        name="common_key_restore",
    ),
    path("<uuid:case>/", views.case_detail, name="detail"),
    path("<uuid:case>/edit/", views.case_edit, name="edit"),
    path("<uuid:case>/timeline/", views.case_timeline, name="timeline"),
    path("<uuid:case>/history/", views.case_history, name="history"),
    path("<uuid:case>/export/", views.case_export, name="export"),
    path("<uuid:case>/entities/new/<slug:kind>/", views.entity_add, name="entity_add"),
    path("<uuid:case>/entities/<uuid:entity>/", views.entity_detail, name="entity"),
    path("<uuid:case>/entities/<uuid:entity>/edit/", views.entity_edit, name="entity_edit"),
    path("<uuid:case>/entities/<uuid:entity>/remove/", views.entity_remove, name="entity_remove"),
    path("<uuid:case>/relationships/new/", views.relationship_add, name="relationship_add"),
    path(
        "<uuid:case>/relationships/<uuid:relationship>/remove/",
        views.relationship_remove,
        name="relationship_remove",
    ),
    path("<uuid:case>/movements/new/", views.movement_add, name="movement_add"),
    path(
        "<uuid:case>/movements/<uuid:movement>/remove/",
        views.movement_remove,
        name="movement_remove",
    ),
    path("<uuid:case>/notes/new/", views.note_add, name="note_add"),
    path("<uuid:case>/evidence/new/", views.evidence_add, name="evidence_add"),
    path("<uuid:case>/evidence/<uuid:evidence>/", views.evidence_detail, name="evidence"),
    path(
        "<uuid:case>/evidence/<uuid:evidence>/download/",
        views.evidence_download,
        name="evidence_download",
    ),
    path("<uuid:case>/shares/", views.case_shares, name="shares"),
    path("<uuid:case>/shares/<uuid:share>/revoke/", views.share_revoke, name="share_revoke"),
]
