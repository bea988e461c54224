"""The description judge (issue 11, "judge a description") on its labelled set bench/descriptions.yml: a floor on
accuracy and on each class's precision and recall, so a change to the rule that loses ground fails here.
`python bench/description_judge.py` prints the figures and the misjudged messages."""
from __future__ import annotations

import pytest

from actions.ticket_text import describes_what_happens
from bench.description_judge import CLASSES, load, scores

MIN_ACCURACY = 0.95
MIN_PER_CLASS = 0.90


def test_the_labelled_set_is_big_enough_and_balanced():
    pairs = load("tuning") + load("holdout")
    assert len(pairs) >= 100
    for cls in CLASSES:
        assert sum(1 for _, label in pairs if label == cls) >= 40


@pytest.mark.parametrize("part", ["tuning", "holdout"])
def test_the_judge_holds_its_floor(part):
    figures = scores(load(part))
    assert figures["all"]["accuracy"] >= MIN_ACCURACY
    for cls in CLASSES:
        assert figures[cls]["precision"] >= MIN_PER_CLASS, cls
        assert figures[cls]["recall"] >= MIN_PER_CLASS, cls


@pytest.mark.parametrize("text", [None, "", "/abrir_acionamento", "/abrir_acionamento{\"servico\": \"datavalid\"}"])
def test_nothing_typed_is_no_description(text):
    assert describes_what_happens(text) is False
