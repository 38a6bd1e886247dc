from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .services import token_user

KEYWORD = "Token"


def token_secret(request) -> str | None:
    """The secret of `Authorization: Token <secret>` on `request` (a Django or DRF request), or
    None when the header is absent or names another scheme. Raises AuthenticationFailed when the
    header is malformed."""
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != KEYWORD.lower().encode():
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <secret>'.")
    try:
        return header[1].decode()
    except UnicodeError:
        raise exceptions.AuthenticationFailed("Invalid token header: not ASCII.") from None


class HashedTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <secret>`, checked against the stored SHA-256 and the expiry."""

    keyword = KEYWORD

    def authenticate(self, request):
        raw = token_secret(request)
        if raw is None:
            return None
        user = token_user(raw=raw)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return (user, None)

    def authenticate_header(self, request) -> str:
        return self.keyword


class HashedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.HashedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <secret>` from POST /api/v1/auth/token/ (expires; stored hashed).",
        }
