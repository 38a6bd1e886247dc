from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "web"
urlpatterns = [
    path("", views.question_list_view, name="question_list"),
    path("questions/<int:pk>/", views.question_detail, name="question_detail"),
    path("questions/<int:pk>/forecast/", views.forecast_submit, name="forecast_submit"),
    path("questions/<int:pk>/withdraw/", views.forecast_withdraw, name="forecast_withdraw"),
    path("articles/<int:pk>/", views.article_detail, name="article_detail"),
    path("series/<slug:slug>/", views.series_detail, name="series_detail"),
    path("strategic/", views.strategic_list, name="strategic_list"),
    path("strategic/<slug:slug>/", views.strategic_detail, name="strategic_detail"),
    path("leaderboard/", views.leaderboard_global, name="leaderboard"),
    path("profile/", views.profile, name="profile"),
    path("users/<int:pk>/", views.user_profile, name="user_profile"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views.notification_mark_read, name="notification_read"),
    path("inbox/read-all/", views.notifications_mark_all_read, name="notifications_read_all"),
    path("settings/notifications/", views.notification_settings, name="notification_settings"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.SiteLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
