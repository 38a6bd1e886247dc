"""Fixtures of the questions tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def admin_client(client, make_user):
    """A test client logged in as a superuser (the admin's pages)."""
    user = make_user("root", staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    client.force_login(user)
    return client
