"""Fixtures of the site's tests (Django's test client)."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def client_as():
    """A test client, logged in as `user` when one is given (keywords go to Client)."""

    def make(user=None, **kw) -> Client:
        c = Client(**kw)
        if user is not None:
            c.force_login(user)
        return c

    return make
