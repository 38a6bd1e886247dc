"""Settings for the test suite: everything of base.py, with only what makes tests fast.

The suite runs against the real services, so nothing here replaces them: PostgreSQL, Redis
(broker, results and cache) and Celery come from DATABASE_URL and REDIS_URL, read by base.py
from the environment exactly as in a deployment. pyproject.toml points pytest-django here, and
the Celery workers the tests start get the same DJANGO_SETTINGS_MODULE (tests/support/workers.py)."""

from .base import *  # noqa: F403

# Hashing a password with PBKDF2 costs about 0.4 s; the suite makes hundreds of users. MD5 is
# first (new passwords use it); the others stay so a stored hash of another kind still verifies.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
