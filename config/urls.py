from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts.views import TokenView
from forecasts import leaderboard_views as lbviews
from forecasts import views as fviews
from questions import article_views as aviews
from questions.views import QuestionViewSet

router = SimpleRouter(trailing_slash=True)
router.register("questions", QuestionViewSet, basename="question")

api_v1 = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("questions/<int:pk>/forecasts/", fviews.QuestionForecastsView.as_view(), name="question-forecasts"),
    path("questions/<int:pk>/withdraw/", fviews.WithdrawView.as_view(), name="question-withdraw"),
    path("questions/<int:pk>/scores/", fviews.QuestionScoresView.as_view(), name="question-scores"),
    path("me/forecasts/", fviews.MyForecastsView.as_view(), name="me-forecasts"),
    path("me/scores/", fviews.MyScoresView.as_view(), name="me-scores"),
    path("leaderboards/global/", lbviews.GlobalLeaderboardView.as_view(), name="leaderboard-global"),
    path("leaderboards/series/<slug:slug>/", lbviews.SeriesLeaderboardView.as_view(), name="leaderboard-series"),
    path("leaderboards/questions/<int:pk>/", lbviews.QuestionLeaderboardView.as_view(), name="leaderboard-question"),
    path("users/<int:pk>/calibration/", lbviews.UserCalibrationView.as_view(), name="user-calibration"),
    path("crowd/calibration/", lbviews.CrowdCalibrationView.as_view(), name="crowd-calibration"),
    path("articles/", aviews.ArticleListCreateView.as_view(), name="articles"),
    path("articles/<int:pk>/", aviews.ArticleDetailView.as_view(), name="article-detail"),
    path("articles/<int:pk>/candidates/", aviews.ArticleCandidatesView.as_view(), name="article-candidates"),
    path("candidates/<int:pk>/approve/", aviews.CandidateApproveView.as_view(), name="candidate-approve"),
    path("candidates/<int:pk>/reject/", aviews.CandidateRejectView.as_view(), name="candidate-reject"),
    *router.urls,
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("web.urls")),
]
