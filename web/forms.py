"""Forms of the forecaster site. They only parse what a browser sends (percentages, text) into the
payloads the services take; every business rule stays in the services, whose DomainError is
shown next to the field it names."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from accounts.models import User
from accounts.services import LoginLocked, LoginRefused, login_check, user_create
from config.exceptions import DomainError
from config.http import client_ip
from questions.models import Question


class SignupForm(UserCreationForm):
    display_name = forms.CharField(
        max_length=80,
        required=False,
        help_text="Shown on leaderboards instead of your username. Optional.",
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name")

    def save(self, commit: bool = True) -> User:
        """Through accounts.services.user_create, like every other way a user is made."""
        return user_create(
            username=self.cleaned_data["username"],
            password=self.cleaned_data["password1"],
            display_name=self.cleaned_data.get("display_name") or "",
        )


class LoginForm(AuthenticationForm):
    """Django's login form, authenticated through accounts.services.login_check so the site has
    the same username+IP lockout as the API's token endpoint."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            ip = client_ip(self.request) if self.request is not None else ""
            try:
                self.user_cache = login_check(username=username, password=password, ip=ip)
            except LoginLocked as e:
                raise forms.ValidationError(e.message, code="locked_out")
            except LoginRefused as e:
                raise forms.ValidationError(e.message, code="invalid_login")
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


def _percent(raw: str | None) -> float | str | None:
    """A percentage typed by a person, as a probability. Text that is not a number is passed on
    as text, so the service refuses it with its own message."""
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw).strip().rstrip("%").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return float(value / 100)


def option_field_name(position: int) -> str:
    return f"p_{position}"


class ForecastForm:
    """Reads the forecast form of one question: `probability` (binary, a percentage of yes) or one
    `p_<position>` per option (multiple choice, percentages), and `rationale`.

    Not a Django form: it keeps what was typed, builds the service payload, and collects the
    DomainError of the service under the input it names."""

    def __init__(self, question: Question, data: Any = None, initial: dict[str, str] | None = None):
        self.question = question
        self.options = list(question.options.all())
        self.data = data
        self.values: dict[str, str] = dict(initial or {})
        if data is not None:
            for name in self.field_names():
                self.values[name] = str(data.get(name, "")).strip()
            self.values["rationale"] = str(data.get("rationale", ""))
        self.errors: dict[str, str] = {}
        self.non_field_error = ""

    @property
    def is_binary(self) -> bool:
        return self.question.type == Question.Type.BINARY

    def field_names(self) -> list[str]:
        if self.is_binary:
            return ["probability"]
        return [option_field_name(o.position) for o in self.options]

    def payload(self) -> dict[str, Any]:
        if self.is_binary:
            return {"probability": _percent(self.values.get("probability"))}
        return {
            "probabilities": {o.label: _percent(self.values.get(option_field_name(o.position))) for o in self.options}
        }

    @property
    def rationale(self) -> str:
        return self.values.get("rationale", "")

    def add_domain_error(self, e: DomainError) -> None:
        """Place the service's message next to the input its field names."""
        field = e.field or ""
        if field == "probability" or field == "rationale":
            self.errors[field] = e.message
        elif field.startswith("probabilities."):
            label = field.removeprefix("probabilities.")
            option = next((o for o in self.options if o.label == label), None)
            if option is not None:
                self.errors[option_field_name(option.position)] = e.message
            else:
                self.errors["probabilities"] = f"{label}: {e.message}"
        elif field == "probabilities":
            self.errors["probabilities"] = e.message
        else:
            self.non_field_error = e.message

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.non_field_error)

    def option_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "option": o,
                "name": option_field_name(o.position),
                "value": self.values.get(option_field_name(o.position), ""),
                "error": self.errors.get(option_field_name(o.position), ""),
            }
            for o in self.options
        ]
