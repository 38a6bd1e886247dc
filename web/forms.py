"""Forms of the forecaster site. They only parse what a browser sends (percentages, text) into the
payloads the services take; every business rule stays in the services, whose DomainError is
shown next to the field it names."""

from __future__ import annotations

import re
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


ODDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?::|to)\s*(\d+(?:\.\d+)?)\s*$", re.IGNORECASE)
ONE_IN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+in\s+(\d+(?:\.\d+)?)\s*$", re.IGNORECASE)


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_probability(raw: str | None) -> float | str | None:
    """A probability typed by a person: a percentage ("70", "70%", "12.5 %"), odds in favour
    ("3:1" or "3 to 1": 3 / (3 + 1) = 75%), or "1 in N" ("1 in 4" = 25%; "2 in 5" = 40%).
    Empty is None. Text that is none of these (or odds with nothing on either side) is passed
    on as text, so that forecasts.validation refuses it with its own message, and so are the
    bounds: every form gives the same stored probability and the same rules (0.1%..99.9%)."""
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw).strip()
    m = ODDS.match(text)
    if m:
        a, b = Decimal(m.group(1)), Decimal(m.group(2))
        return float(a / (a + b)) if a + b > 0 else text
    m = ONE_IN.match(text)
    if m:
        k, n = Decimal(m.group(1)), Decimal(m.group(2))
        return float(k / n) if n > 0 else text
    value = _decimal(text.rstrip("%").strip())
    if value is None:
        return text
    return float(value / 100)


def _percent(raw: str | None) -> float | str | None:
    """The form's inputs: see parse_probability."""
    return parse_probability(raw)


def option_field_name(position: int) -> str:
    return f"p_{position}"


class ForecastForm:
    """Reads the forecast form of one question: `probability` (binary, a percentage of yes) or one
    `p_<position>` per option (multiple choice, percentages), and `rationale`.

    Not a Django form: it keeps what was typed, builds the service payload, and collects the
    DomainError of the service under the input it names."""

    is_continuous = False

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


# --- Numeric and date questions ------------------------------------------------------------------

COMPONENT_FIELD = re.compile(r"^components\[(\d+)\]\.(centre|scale|weight)$")


def _number_or_text(raw: str | None) -> float | str | None:
    """A typed number as a float; empty is None; anything else is passed on as text, for the
    service to refuse with its own message."""
    text = (raw or "").strip()
    if not text:
        return None
    value = _decimal(text.replace(",", "").replace("\u2212", "-"))
    return float(value) if value is not None else text


class ContinuousForecastForm(ForecastForm):
    """The forecast form of a numeric or date question: a mixture of one or two logistic
    components, each a centre (a number in the question's unit, or a date) and a spread (the
    logistic scale, in the unit or in days), the second with its weight in percent (`second`
    ticked). The service (forecasts.validation) converts the components to the stored CDF; its
    refusals are placed next to the input they name. ForecastForm's interface and reading."""

    is_continuous = True
    FIELDS = ["centre_1", "scale_1", "centre_2", "scale_2", "weight_2", "second"]

    def field_names(self) -> list[str]:
        return self.FIELDS

    @property
    def is_date(self) -> bool:
        return self.question.type == Question.Type.DATE

    @property
    def two_components(self) -> bool:
        return self.values.get("second", "") not in ("", "0", "false", "off")

    def _centre(self, name: str) -> float | str | None:
        """A number, or for a date question the browser's text as typed: a date input's
        "2025-03-01" (midnight UTC) or a datetime-local's "2025-03-01T14:30" (UTC), both of which
        the service reads as instants."""
        raw = self.values.get(name, "").strip()
        return (raw or None) if self.is_date else _number_or_text(raw)

    def payload(self) -> dict[str, Any]:
        first: dict[str, Any] = {
            "centre": self._centre("centre_1"),
            "scale": _number_or_text(self.values.get("scale_1")),
        }
        if not self.two_components:
            return {"components": [{**first, "weight": 1.0}]}
        weight = _number_or_text(self.values.get("weight_2"))
        # The weight is typed in percent for the second component; the first takes the rest.
        share = weight / 100 if isinstance(weight, float) else weight
        second = {"centre": self._centre("centre_2"), "scale": _number_or_text(self.values.get("scale_2"))}
        return {
            "components": [
                {**first, "weight": 1 - share if isinstance(share, float) else 1.0},
                {**second, "weight": share},
            ]
        }

    def add_domain_error(self, e: DomainError) -> None:
        """Each of the service's messages next to the input its field names: components[i].centre
        -> centre_<i+1>; either component's weight -> weight_2 (the first component's weight is
        100% minus the second's, so its refusal means the second's is 100% or more)."""
        for name, rules in (e.fields or {"": [e.message]}).items():
            message = "; ".join(rules)
            m = COMPONENT_FIELD.match(name or "")
            if name == "rationale":
                self.errors["rationale"] = message
            elif m and m.group(2) == "weight":
                index = int(m.group(1))
                self.errors["weight_2"] = (
                    message if index else "must be less than 100% (the first component has the rest)"
                )
            elif m and int(m.group(1)) < 2:
                self.errors[f"{m.group(2)}_{int(m.group(1)) + 1}"] = message
            elif name and name.startswith(("components", "cdf")):
                self.errors["components"] = message
            else:
                self.non_field_error = message


def forecast_form(question: Question, data: Any = None, initial: dict[str, str] | None = None) -> ForecastForm:
    """The forecast form for the question's type."""
    if question.is_continuous:
        return ContinuousForecastForm(question, data=data, initial=initial)
    return ForecastForm(question, data=data, initial=initial)


# --- Notification settings --------------------------------------------------------------------

EMAIL_KIND_LABELS = {
    "question_resolved": "A question I forecast resolves (or its resolution changes)",
    "forecast_stale": "My forecast has gone stale",
    "crowd_moved": "The crowd moved past my threshold",
    "question_closing": "A question I follow closes soon and I have no forecast",
}


class NotificationSettingsForm(forms.Form):
    """The preferences as a page edits them. It only parses the browser's text; the rules (ranges,
    the webhook address) are notifications.services.preferences_update's, whose per-field errors
    `add_service_errors` puts next to the fields."""

    email_question_resolved = forms.BooleanField(required=False, label=EMAIL_KIND_LABELS["question_resolved"])
    email_forecast_stale = forms.BooleanField(required=False, label=EMAIL_KIND_LABELS["forecast_stale"])
    email_crowd_moved = forms.BooleanField(required=False, label=EMAIL_KIND_LABELS["crowd_moved"])
    email_question_closing = forms.BooleanField(required=False, label=EMAIL_KIND_LABELS["question_closing"])
    stale_days = forms.IntegerField(
        label="Remind me when my forecast is older than (days)",
        help_text="1 to 365 days.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    move_threshold = forms.IntegerField(
        label="Tell me when the crowd moves by more than (percentage points)",
        help_text="1 to 99 points since my last forecast.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    webhook_url = forms.CharField(
        required=False,
        max_length=500,
        label="Webhook (Slack-compatible)",
        help_text="An https:// address; each new notification is POSTed to it. Leave empty for none.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/…"}),
    )

    EMAIL_FIELDS = ("email_question_resolved", "email_forecast_stale", "email_crowd_moved", "email_question_closing")

    @classmethod
    def initial_from(cls, pref: Any) -> dict[str, Any]:
        """The form's initial values from the reader's preferences (notifications.selectors.preference_for)."""
        return {
            **{name: pref.email_on(name.removeprefix("email_")) for name in cls.EMAIL_FIELDS},
            "stale_days": pref.stale_days,
            "move_threshold": pref.move_threshold,
            "webhook_url": pref.webhook_url or "",
        }

    def changes(self) -> dict[str, Any]:
        """The service's `changes` from the cleaned data."""
        d = self.cleaned_data
        return {
            "email": {name.removeprefix("email_"): bool(d.get(name)) for name in self.EMAIL_FIELDS},
            "stale_days": d["stale_days"],
            "move_threshold": d["move_threshold"],
            "webhook_url": (d.get("webhook_url") or "").strip() or None,
        }

    def add_service_errors(self, e: DomainError) -> None:
        """Each of the service's field errors next to its field (`email.crowd_moved` ->
        email_crowd_moved); one naming no field of this form goes to the top."""
        for name, rules in (e.fields or {"": [e.message]}).items():
            field = name.replace(".", "_")
            for rule in rules:
                self.add_error(field if field in self.fields else None, rule)
