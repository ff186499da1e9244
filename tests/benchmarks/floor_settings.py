"""S1's settings: the console's own (the same middleware, database and logging), with a
URLconf of one trivial view (tests/benchmarks/django_floor.py)."""

from console.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.django_floor"
