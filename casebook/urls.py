from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from casebook import access_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="casebook/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("agency/members/", views.member_list, name="members"),
    path("agency/members/new/", views.member_add, name="member_add"),
    path("agency/members/<uuid:member>/", views.member_edit, name="member_edit"),
    path("agency/access-log/", access_views.access_log, name="access_log"),
    path("agency/access-log/export/", access_views.access_log_export, name="access_log_export"),
    path("notifications/", views.notifications, name="notifications"),
    path("cases/", include("cases.urls")),
    path("admin/", admin.site.urls),
]
