"""A member's own password: choosing it with a one-time link, changing it, and resetting it
by e-mail. Nobody else ever chooses it (see ``casebook.accounts``)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from casebook import accounts, services
from casebook.auth import AuthenticatedHttpRequest
from casebook.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm

LINK_REFUSED = {
    accounts.EXPIRED: (
        410,
        _("This link has expired. Ask a supervisor of your agency to send you a new one."),
    ),
    accounts.INVALID: (
        404,
        _("This link is not valid: it was already used, or a newer one was sent."),
    ),
}


# Like Django's reset links: a GET of the link moves its token into the session and
# redirects to this placeholder, so that the token is not in the address bar, the history or
# the Referer of the page's own requests.
FROM_SESSION = "choose"
SESSION_KEY = "casebook_password_link"


@never_cache
@require_http_methods(["GET", "POST"])
def set_password(request: HttpRequest, token: str) -> HttpResponse:
    """Choose one's password with a one-time link (enrolment, or a new password)."""
    if token == FROM_SESSION:
        token = request.session.get(SESSION_KEY, "")
    elif request.method == "GET":
        request.session[SESSION_KEY] = token
        return redirect("account_set_password", token=FROM_SESSION)
    link, state = accounts.password_link_find(token)
    if link is None:
        status, message = LINK_REFUSED[state]
        refused = {"refused": message}
        return render(request, "casebook/account/set_password.html", refused, status=status)
    form = SetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["new_password1"]
        services.account_password_set(user=link.user, password=password, link=link)
        request.session.pop(SESSION_KEY, None)
        messages.success(request, _("Your password is set. Sign in with it."))
        return redirect("login")
    context: dict[str, Any] = {"form": form, "account": link.user, "purpose": link.purpose}
    return render(request, "casebook/account/set_password.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def password_change(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Change one's own password: the current one, then the new one twice."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["new_password1"]
        try:
            services.account_password_set(user=request.user, password=password)
        except ValidationError as error:
            form.add_error("new_password1", error.messages)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password was changed."))
            return redirect("dashboard")
    required = accounts.password_change_required(request.user)
    context = {"form": form, "required": required}
    return render(request, "casebook/account/password_change.html", context)


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by e-mail. Says the same whether the address is known or not."""

    form_class = PasswordResetForm
    template_name = "casebook/account/password_reset_form.html"
    subject_template_name = "casebook/email/password-reset-subject.txt"
    email_template_name = "casebook/email/password-reset-body.txt"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from a reset link; the link dies with the old password."""

    form_class = SetPasswordForm
    template_name = "casebook/account/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: "auth_forms.SetPasswordForm[User]") -> HttpResponse:
        password = form.cleaned_data["new_password1"]
        services.account_password_set(user=form.user, password=password)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


password_reset = PasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="casebook/account/password_reset_done.html"
)
password_reset_confirm = PasswordResetConfirmView.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="casebook/account/password_reset_complete.html"
)
