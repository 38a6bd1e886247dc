"""Settings for the leaderboard benchmark's server only: the product settings plus a URL module
that adds the bare baseline view. Never used by the product."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bare_urls"
