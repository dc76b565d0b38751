from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from casebook import access_views, account_views, views
from casebook.signin import views as signin_views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", signin_views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", account_views.password_change, name="account_password_change"),
    path(
        "account/set-password/<str:token>/",
        account_views.set_password,
        name="account_set_password",
    ),
    path("account/reset/", account_views.password_reset, name="password_reset"),
    path("account/reset/sent/", account_views.password_reset_done, name="password_reset_done"),
    path(
        "account/reset/<uidb64>/<token>/",
        account_views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "account/reset/done/",
        account_views.password_reset_complete,
        name="password_reset_complete",
    ),
    path("agency/settings/", views.agency_settings, name="agency_settings"),
    path("agency/members/", views.member_list, name="members"),
    path("agency/members/new/", views.member_add, name="member_add"),
    path("agency/members/<uuid:member>/", views.member_edit, name="member_edit"),
    path("agency/access-log/", access_views.access_log, name="access_log"),
    path("agency/access-log/export/", access_views.access_log_export, name="access_log_export"),
    path("notifications/", views.notifications, name="notifications"),
    path("", include("casebook.signin.urls")),
    path("cases/", include("cases.urls")),
    path("admin/", admin.site.urls),
]
