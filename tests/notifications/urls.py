"""The site's URLs with the e-mails' unsubscribe page mounted at /notifications/ (as config/urls.py
mounts it); used by the tests that follow links from e-mails."""

from django.urls import include, path

from config.urls import urlpatterns as site

urlpatterns = list(site)
if not any(getattr(p, "namespace", None) == "notifications" for p in site):
    urlpatterns.append(path("notifications/", include("notifications.urls")))
