"""How forecasts answers the layers below it: questions asks `terms_frozen_query` before it lets a
question's terms change (and for the admin's read-only fields), and a question with at least one
forecast row has its terms frozen, since those forecasts were made against them. Connected in
ForecastsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from questions.models import Question
from questions.signals import terms_frozen_query

from .models import Forecast


@receiver(terms_frozen_query, sender=Question, dispatch_uid="forecasts.terms_frozen_by_forecasts")
def terms_frozen_by_forecasts(sender: Any, question_id: int, **kwargs: Any) -> bool:
    # Any row counts, withdrawals included: each follows a forecast made under the same terms.
    return Forecast.objects.filter(question_id=question_id).exists()
