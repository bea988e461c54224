"""The NLU gate (tests/nlu_gate.py) over report files shaped like `rasa test nlu` writes them."""
from __future__ import annotations

import json
from pathlib import Path

from tests import nlu_gate

ENTITIES = ["cpf", "email", "telefone", "numero_acionamento"]


def _row(f1: float, support: int) -> dict:
    return {"precision": f1, "recall": f1, "f1-score": f1, "support": support}


def write_reports(folder: Path, intent_f1: float, entity_f1: dict[str, float]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    intents = {"ajuda": _row(intent_f1, 10), "faq": _row(intent_f1, 10), "macro avg": _row(intent_f1, 20),
               "weighted avg": _row(intent_f1, 20), "accuracy": intent_f1}
    (folder / "intent_report.json").write_text(json.dumps(intents))
    (folder / "response_selection_report.json").write_text(json.dumps({"accuracy": 0.95}))
    entities = {name: _row(f1, 7) for name, f1 in entity_f1.items()}
    entities["macro avg"] = _row(1.0, 28)
    (folder / "PatternEntityExtractor_report.json").write_text(json.dumps(entities))
    return folder


def gate(folder: Path) -> int:
    return nlu_gate.main([str(folder), "--min-intent-f1", "0.97", "--min-response-accuracy", "0.90",
                          "--min-entity-f1", "0.98", "--entities", *ENTITIES])


def test_passes_when_intents_and_every_entity_reach_the_bar(tmp_path: Path, capsys) -> None:
    folder = write_reports(tmp_path / "ok", 0.98, {name: 0.99 for name in ENTITIES})
    assert gate(folder) == 0
    assert "entity telefone: F1 0.990" in capsys.readouterr().out


def test_one_weak_entity_fails_the_gate(tmp_path: Path, capsys) -> None:
    folder = write_reports(tmp_path / "weak", 0.99, {"cpf": 1.0, "email": 1.0, "telefone": 0.93,
                                                     "numero_acionamento": 1.0})
    assert gate(folder) == 1
    assert "entity telefone: F1 0.930" in capsys.readouterr().out


def test_an_entity_missing_from_the_hold_out_fails_the_gate(tmp_path: Path, capsys) -> None:
    folder = write_reports(tmp_path / "missing", 0.99, {"cpf": 1.0, "email": 1.0, "telefone": 1.0})
    assert gate(folder) == 1
    assert "numero_acionamento: no example" in capsys.readouterr().out


def test_a_missing_entity_report_fails_the_gate(tmp_path: Path) -> None:
    folder = write_reports(tmp_path / "noreport", 0.99, {name: 1.0 for name in ENTITIES})
    (folder / "PatternEntityExtractor_report.json").unlink()
    assert gate(folder) == 1


def test_intents_below_the_bar_fail_even_with_perfect_entities(tmp_path: Path) -> None:
    folder = write_reports(tmp_path / "intents", 0.95, {name: 1.0 for name in ENTITIES})
    assert gate(folder) == 1
