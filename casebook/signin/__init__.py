"""Signing in: password, then a second factor; lockout after failed attempts; idle sessions.

- ``views``: the sign-in page (Django's ``AuthenticationForm``), the second step (a code from
  an authenticator app, or a one-time recovery code), the set-up of an authenticator (QR code
  and key, recovery codes shown once), a member's security page, and a supervisor's unlock and
  two-factor reset of a member of their own agency.
- ``middleware``: a signed-in member who has not passed the second step reaches only its
  pages and sign-out; a session ends after ``CASEBOOK_SESSION_IDLE_SECONDS`` without a request.
- ``lockout``: django-axes' database handler with Casebook's two limits (an account after
  ``AXES_FAILURE_LIMIT`` failures from anywhere, a source address after
  ``CASEBOOK_SIGNIN_ADDRESS_FAILURE_LIMIT`` across accounts), writing failures and lockouts
  to the access log and telling the agency's supervisors of a locked account.

Two-factor devices are django-otp's (``TOTPDevice``, ``StaticDevice`` for recovery codes).
"""
