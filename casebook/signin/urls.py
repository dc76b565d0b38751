from django.urls import path

from casebook.signin import views

app_name = "signin"

urlpatterns = [
    path("sign-in/two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("sign-in/two-factor/set-up/", views.two_factor_setup, name="two_factor_setup"),
    path("account/security/", views.security, name="security"),
    path("account/security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("agency/members/<uuid:member>/unlock/", views.member_unlock, name="member_unlock"),
    path(
        "agency/members/<uuid:member>/two-factor-reset/",
        views.member_two_factor_reset,
        name="member_two_factor_reset",
    ),
]
