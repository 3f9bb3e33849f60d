"""Hypothesis profiles, one per environment, chosen by SEQENGINE_HYPOTHESIS_PROFILE.

* ``ci`` (the default, what ``make test`` runs): derandomized, so every run
  draws the same examples and a red build is red on every rerun.
* ``fuzz`` (``make fuzz``): random seeds and ten times the examples, to hunt;
  a failure it finds becomes an ``@example`` on the test.
* ``mutation`` (``make mutation``): derandomized and a quarter of the examples,
  since mutmut runs the covering tests once per mutant.

Tests state their budget relative to the profile
(``settings(max_examples=4 * settings.default.max_examples)``) rather than as a
fixed number, so every profile scales them alike.

The throwaway PostgreSQL cluster's fixtures (``pg_cluster``, ``pg_url``) come from
pg_cluster.py and are shared by every test folder.
"""

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings
from pg_cluster import pg_cluster, pg_url

from engine.timeline import calendar_for

__all__ = ["pg_cluster", "pg_url"]

settings.register_profile(
    "ci", max_examples=100, derandomize=True, deadline=None, print_blob=True, database=None
)
settings.register_profile("fuzz", max_examples=1000, deadline=None, print_blob=True)
settings.register_profile(
    "mutation",
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a failing mutant needs no shrinking
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = os.environ.get("SEQENGINE_HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


@pytest.fixture(autouse=True)
def _own_calendar_tables() -> Iterator[None]:
    """Under mutmut, every test builds the calendar tables it uses.

    ``calendar_for`` caches calendars (and their day tables) for the whole process;
    mutmut maps each test to the functions it calls, so a test that found its table
    already built would not be picked to run against mutants of the table code.
    """
    if PROFILE == "mutation":
        calendar_for.cache_clear()
    yield
