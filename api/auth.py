"""Log-in for API clients: a username and password for an expiring token."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import login_check, token_create
from config.http import client_ip
from config.schema import error_responses
from config.throttles import AnonThrottle


class LoginThrottle(AnonThrottle):
    scope = "login"


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once.")
    expires = serializers.DateTimeField()


class TokenView(APIView):
    """Exchange a username and password for an expiring API token."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer, **error_responses(400, 429)},
        tags=["auth"],
    )
    def post(self, request):
        s = TokenRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        user = login_check(
            username=s.validated_data["username"], password=s.validated_data["password"], ip=client_ip(request)
        )
        raw, token = token_create(user=user)
        return Response({"token": raw, "expires": token.expires_at})
