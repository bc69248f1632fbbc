import pytest

from fulfillment.actors import Actor


@pytest.fixture
def system_actor():
    return Actor.system("tests")
