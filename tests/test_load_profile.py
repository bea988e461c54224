"""bench/load_profile.py's parsing and attribution helpers, and its variants of config.yml (no model is loaded or
trained here: `make load-profile` does that)."""
from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest
import yaml

from bench import load_profile as lp

STATUS = """Name:\tpython
VmPeak:\t 2000000 kB
VmHWM:\t 1560884 kB
VmRSS:\t 1458208 kB
Threads:\t42
"""


def mark(label: str, seconds: float, cpu: float, rss_kb: int, hwm_kb: int, kind: str = "phase") -> str:
    return lp.MARK + json.dumps({"label": label, "seconds": seconds, "cpu_seconds": cpu, "rss_kb": rss_kb,
                                 "hwm_kb": hwm_kb, "kind": kind})


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_archive_files_are_summed_per_component() -> None:
    members = [("components/train_DIETClassifier5/DIETClassifier.tf_model.data-00000-of-00001", 35 * 2**20),
               ("components/train_DIETClassifier5/DIETClassifier.tf_model.index", 2**19),
               ("/components/train_CountVectorsFeaturizer3/vocabularies.json", 2**20),
               ("components/train_CountVectorsFeaturizer4/vocabularies.json", 2**20),
               ("metadata.json", 2**20), ("components/domain_provider", 10)]
    assert lp.archive_sizes(members) == {"DIETClassifier": 35.5, "CountVectorsFeaturizer": 2.0}


def test_status_fields_are_read_in_kb() -> None:
    assert lp.status_kb(STATUS, "VmRSS") == 1458208
    assert lp.status_kb(STATUS, "VmHWM") == 1560884
    with pytest.raises(ValueError):
        lp.status_kb(STATUS, "VmSwap")


def test_only_checkpoint_lines_are_parsed() -> None:
    output = "\n".join(["2026-12-01 INFO rasa loading", mark("import tensorflow", 20.0, 9.5, 400_000, 410_000),
                        "warning: something", mark("run_DIETClassifier5", 30.0, 15.0, 1_000_000, 1_100_000, "node")])
    points = lp.parse_checkpoints(output)
    assert [p.label for p in points] == ["import tensorflow", "run_DIETClassifier5"]
    assert points[1] == lp.Checkpoint("run_DIETClassifier5", 30.0, 15.0, 1_000_000, 1_100_000, "node")


@pytest.mark.parametrize(("node", "component"), [
    ("run_DIETClassifier5", "DIETClassifier"),
    ("run_CountVectorsFeaturizer4", "CountVectorsFeaturizer"),
    ("run_components.entities.PatternEntityExtractor6", "PatternEntityExtractor"),
    ("run_TEDPolicy2", "TEDPolicy"),
    ("domain_provider", "domain_provider"),
    ("select_prediction", "select_prediction"),
])
def test_node_names_map_to_their_component_class(node: str, component: str) -> None:
    assert lp.component_name(node) == component


def test_each_step_costs_the_difference_to_the_previous_checkpoint() -> None:
    points = [lp.Checkpoint("interpreter started", 1.0, 0.5, 20 * 1024, 20 * 1024),
              lp.Checkpoint("run_CountVectorsFeaturizer3", 3.0, 1.5, 120 * 1024, 130 * 1024, "node"),
              lp.Checkpoint("run_CountVectorsFeaturizer4", 4.0, 2.0, 100 * 1024, 130 * 1024, "node")]
    first, second, third = lp.steps(points)
    assert (first.seconds, first.cpu_seconds, first.rss_delta_mb) == (1.0, 0.5, 20.0)
    assert (second.seconds, second.cpu_seconds, second.rss_delta_mb, second.hwm_mb) == (2.0, 1.0, 100.0, 130.0)
    assert (third.rss_delta_mb, third.rss_mb) == (-20.0, 100.0)


def test_nodes_of_one_class_are_summed_and_small_ones_grouped() -> None:
    node_steps = [lp.Step("run_CountVectorsFeaturizer3", "node", 0.1, 0.1, 1.0, 0, 0),
                  lp.Step("run_CountVectorsFeaturizer4", "node", 0.2, 0.2, 3.0, 0, 0),
                  lp.Step("run_DIETClassifier5", "node", 40.0, 30.0, 600.0, 0, 0),
                  lp.Step("run_EntitySynonymMapper7", "node", 0.0, 0.0, 0.0, 0, 0)]
    totals = lp.by_component(node_steps)
    assert list(totals) == ["CountVectorsFeaturizer", "DIETClassifier", "EntitySynonymMapper"]
    assert totals["CountVectorsFeaturizer"] == pytest.approx((0.3, 0.3, 4.0))
    shown, rest, count = lp.split_significant(totals, min_cpu=1.0, min_mb=5.0)
    assert list(shown) == ["DIETClassifier"]
    assert count == 2 and rest == pytest.approx((0.3, 0.3, 4.0))


def components(config: dict, name: str) -> list[dict]:
    return [c for c in config["pipeline"] if c["name"] == name]


def test_variants_change_only_what_they_say_and_never_config_yml() -> None:
    before = (lp.ROOT / "config.yml").read_text()
    base = yaml.safe_load(before)
    char3 = lp.variant_config(base, "char3")
    assert [c.get("max_ngram") for c in components(char3, "CountVectorsFeaturizer")] == [None, 3]
    no_rs = lp.variant_config(base, "no_rs")
    assert components(no_rs, "ResponseSelector") == [] and components(base, "ResponseSelector")
    assert len(no_rs["pipeline"]) == len(base["pipeline"]) - 1
    small = components(lp.variant_config(base, "rs_small"), "ResponseSelector")[0]
    assert (small["number_of_transformer_layers"], small["transformer_size"]) == (1, 128)
    assert small["retrieval_intent"] == "faq"
    assert lp.variant_config(base, "char3")["policies"] == base["policies"]
    assert (lp.ROOT / "config.yml").read_text() == before


def test_the_training_digest_follows_the_config() -> None:
    base = yaml.safe_load((lp.ROOT / "config.yml").read_text())
    digests = {lp.training_digest(lp.variant_config(base, name)) for name in lp.VARIANTS}
    assert len(digests) == len(lp.VARIANTS)
    assert lp.training_digest(base) == lp.training_digest(yaml.safe_load((lp.ROOT / "config.yml").read_text()))


def test_the_report_tables_hold_every_model(tmp_path: Path) -> None:
    archive = tmp_path / "m.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:  # an archive of 1 MB or so, incompressible
        tar.add(write(tmp_path / "weights", os.urandom(2**20)), arcname="components/train_TEDPolicy2/w")
    labels = ["interpreter started", "import tensorflow", "import rasa (agent + server)", "unpack the model archive"]
    points = [lp.Checkpoint(label, i + 1.0, i + 0.5, (i + 1) * 10240, (i + 1) * 10240) for i, label in
              enumerate(labels)]
    points += [lp.Checkpoint("run_DIETClassifier5", 10.0, 8.0, 600 * 1024, 610 * 1024, "node"),
               lp.Checkpoint("agent ready (the rest of Agent.load)", 11.0, 8.5, 600 * 1024, 610 * 1024),
               lp.Checkpoint("first message: NLU parse", 12.0, 9.0, 610 * 1024, 620 * 1024),
               lp.Checkpoint("first message: next action predicted", 13.0, 9.5, 615 * 1024, 620 * 1024)]
    profiles = [lp.Profile("assistant", archive, points, 1.0, {"hold-out": (0.95, 0.93), "hurried": (0.94, None)}),
                lp.Profile("bare bot", archive, points, 1.0)]
    summary = lp.summary_table(profiles)
    assert "| TEDPolicy | — | — | — |" not in lp.components_table(profiles)  # no node of it was loaded
    assert "| assistant | 1 | 30 | 40 | 600 | 615 | 620 | 3.0 (2.5) | 8.0 (6.0) | 2.0 (1.0) | 13.0 (9.5) |" in summary
    assert "| DIETClassifier | 4.5 | +560 | 0.0 | 4.5 | +560 | 0.0 |" in lp.components_table(profiles)
    assert "| 0.950 | 0.940 | 0.930 | — |" not in lp.variants_table(profiles[:1])  # no ResponseSelector node
    assert "| 0.950 | 0.940 | — | — |" in lp.variants_table(profiles[:1])
    with_selector = points + [lp.Checkpoint("run_ResponseSelector8", 14.0, 10.0, 700 * 1024, 700 * 1024, "node")]
    profiles[0].checkpoints = with_selector
    assert "| 0.950 | 0.940 | 0.930 | — |" in lp.variants_table(profiles[:1])


def test_a_kept_profile_reads_back_as_measured(tmp_path: Path) -> None:
    points = [lp.Checkpoint("import tensorflow", 20.0, 9.5, 400_000, 410_000),
              lp.Checkpoint("run_TEDPolicy2", 30.0, 15.0, 500_000, 510_000, "node")]
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps({"checkpoints": [vars(p) for p in points], "load_average": 7.5,
                                "nlu": {"hold-out": [0.95, None]}, "measured_at": "2026-12-01 17:52"}))
    profile = lp.stored_profile(kept, "assistant", tmp_path / "m.tar.gz")
    assert profile.checkpoints == points
    assert (profile.load_average, profile.nlu, profile.measured_at) == (7.5, {"hold-out": (0.95, None)},
                                                                         "2026-12-01 17:52")
    assert [step.label for step in profile.node_steps] == ["run_TEDPolicy2"]


def test_the_parts_of_a_tensorflow_load_and_its_rest() -> None:
    node_steps = [lp.Step("run_CountVectorsFeaturizer4", "node", 0.1, 0.1, 3.0, 0, 0),
                  lp.Step("run_DIETClassifier5 · fit on one example", "part", 30.0, 20.0, 400.0, 0, 0),
                  lp.Step("run_DIETClassifier5 · load the weights", "part", 1.0, 0.5, 30.0, 0, 0),
                  lp.Step("run_DIETClassifier5", "node", 2.0, 1.0, 5.0, 0, 0)]
    parts = lp.parts_of(node_steps)
    assert list(parts) == ["DIETClassifier"]
    assert parts["DIETClassifier"] == {"fit on one example": (30.0, 20.0, 400.0), "load the weights": (1.0, 0.5, 30.0),
                                       "the rest (model object, compile, other)": (2.0, 1.0, 5.0)}
    assert lp.by_component(node_steps)["DIETClassifier"] == pytest.approx((33.0, 21.5, 435.0))


def test_the_written_reading_survives_a_new_run() -> None:
    previous = "# title\n\nintro\n\n## What the profile shows\n\nDIET is the floor.\n\n## Run\n\n- date: old\n"
    assert lp.kept_notes(previous) == "## What the profile shows\n\nDIET is the floor.\n\n"
    assert lp.kept_notes("# title\n\n## Run\n\n- date: old\n") == ""
