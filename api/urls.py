"""The REST API, version 1 (contracts.md): every endpoint under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import articles, auth, forecasts, leaderboards, rationales, strategy
from .export import MyExportView
from .lint import QuestionLintView
from .notifications import MyNotificationsView, MyPreferencesView, NotificationReadView
from .questions import QuestionViewSet

router = SimpleRouter(trailing_slash=True)
router.register("questions", QuestionViewSet, basename="question")

urlpatterns = [
    path("auth/token/", auth.TokenView.as_view(), name="auth-token"),
    path("questions/<int:pk>/forecasts/", forecasts.QuestionForecastsView.as_view(), name="question-forecasts"),
    path("questions/<int:pk>/withdraw/", forecasts.WithdrawView.as_view(), name="question-withdraw"),
    path("questions/<int:pk>/scores/", forecasts.QuestionScoresView.as_view(), name="question-scores"),
    path("questions/<int:pk>/rationales/", rationales.QuestionRationalesView.as_view(), name="question-rationales"),
    path("forecasts/<int:pk>/hide-rationale/", rationales.HideRationaleView.as_view(), name="forecast-hide-rationale"),
    path("me/forecasts/", forecasts.MyForecastsView.as_view(), name="me-forecasts"),
    path("me/scores/", forecasts.MyScoresView.as_view(), name="me-scores"),
    path("me/notifications/", MyNotificationsView.as_view(), name="me-notifications"),
    path("me/notifications/<int:pk>/read/", NotificationReadView.as_view(), name="me-notification-read"),
    path("me/preferences/", MyPreferencesView.as_view(), name="me-preferences"),
    path("me/export/", MyExportView.as_view(), name="me-export"),
    path("leaderboards/global/", leaderboards.GlobalLeaderboardView.as_view(), name="leaderboard-global"),
    path("leaderboards/series/<slug:slug>/", leaderboards.SeriesLeaderboardView.as_view(), name="leaderboard-series"),
    path(
        "leaderboards/questions/<int:pk>/", leaderboards.QuestionLeaderboardView.as_view(), name="leaderboard-question"
    ),
    path("users/<int:pk>/calibration/", leaderboards.UserCalibrationView.as_view(), name="user-calibration"),
    path("crowd/calibration/", leaderboards.CrowdCalibrationView.as_view(), name="crowd-calibration"),
    path("articles/", articles.ArticleListCreateView.as_view(), name="articles"),
    path("articles/<int:pk>/", articles.ArticleDetailView.as_view(), name="article-detail"),
    path("articles/<int:pk>/candidates/", articles.ArticleCandidatesView.as_view(), name="article-candidates"),
    path("candidates/<int:pk>/approve/", articles.CandidateApproveView.as_view(), name="candidate-approve"),
    path("candidates/<int:pk>/reject/", articles.CandidateRejectView.as_view(), name="candidate-reject"),
    path("questions/lint/", QuestionLintView.as_view(), name="question-lint"),
    path("strategic-questions/", strategy.StrategicQuestionListCreateView.as_view(), name="strategic-questions"),
    path(
        "strategic-questions/<slug:slug>/",
        strategy.StrategicQuestionDetailView.as_view(),
        name="strategic-question-detail",
    ),
    path("strategic-questions/<slug:slug>/links/", strategy.StrategicLinksView.as_view(), name="strategic-links"),
    *router.urls,
]
