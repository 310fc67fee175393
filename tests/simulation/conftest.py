"""The simulation's world on each database the tests run on."""
import pytest

from tests.simulation.world import World


@pytest.fixture
def world(database_url):
    """The simulation's own world on this database (SQLite: a file of its own in memory;
    PostgreSQL: the tests' database, migrated already, emptied by each history)."""
    sim = World(None if database_url.startswith("sqlite") else database_url,
                migrate=database_url.startswith("sqlite"))
    try:
        yield sim
    finally:
        sim.close()
