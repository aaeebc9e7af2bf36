"""The instance's own questions: which carers a child knows."""

from __future__ import annotations

from roster.model import History
from tests.factory import carer, child, make_instance


def test_a_carer_is_known_when_the_history_gives_them_hours_with_the_child() -> None:
    instance = make_instance(
        carers=[carer("K1"), carer("K2"), carer("K3")],
        children=[child("C1"), child("C2")],
        history=(
            History("C1", "K1", 2.0),
            History("C1", "K1", 1.5),  # two rows: 3.5 h together
            History("C1", "K2", 0.0),  # a row with no hours is no history
            History("C2", "K3", 4.0),
        ),
    )
    assert instance.history_hours[("C1", "K1")] == 3.5
    assert instance.knows("C1", "K1")
    assert not instance.knows("C1", "K2")
    assert not instance.knows("C1", "K3")  # K3 knows C2, not C1
    assert instance.knows("C2", "K3")
    assert not instance.knows("C2", "K1")
