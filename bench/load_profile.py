"""Where the Rasa server's memory and start time go: a per-component load profile of a trained model.

usage: .venv/bin/python bench/load_profile.py [--model models/assistente.tar.gz] [--no-baseline]
       [--variants [char3 no_rs rs_small]] [--no-experiment] [--reuse] [--out bench/results/load_profile.md]

Not a test (`make load-profile`, never part of `make test`): it prints figures and writes them to --out.

Each model is loaded in a fresh Python process (this script with --child), so imports and TensorFlow state never
leak from one measurement to the next. The child loads the model the way `rasa run` does — `Agent.load_model` →
`MessageProcessor._load_model` → `LocalModelStorage.from_model_archive` (unpack) then `DaskGraphRunner.create`, which
builds one `GraphNode` per node of the predict schema and calls the component's `load` (or `create`) there — and
records RSS (VmRSS) and its peak (VmHWM) from /proc/self/status with the wall time at each checkpoint: after the
interpreter started, after `import tensorflow`, after `import rasa.core.agent`, after the unpack, after every graph
node's load (`GraphNode._load_component` is wrapped, so each component's time and RSS delta are its own), then after
the first message's NLU parse, the first action prediction (TensorFlow traces its graphs on first call), and a second
message (warm).

Models profiled: the assistant's (--model), the bare bot of `make bench` (bench/baseline/, trained by
bench/bench.py's own `baseline_model()` into bench/.cache/), and lighter variants of config.yml (trained into
bench/.cache/variants/, once per content hash of the config and the training inputs; never written to config.yml).
Each variant is also run through the NLU hold-out sets (`rasa test nlu` on tests/test_nlu.yml and
tests/test_nlu_hurried.yml, read with tests/nlu_gate.py's own functions), so a lighter model's price in accuracy is
on the same line as what it saves. Training a variant takes ~6–10 min on 2 shared cores; they run one at a time and
share one Rasa training cache (bench/.cache/rasa-cache), so a variant only retrains the nodes its change touches.

The experiment (skip with --no-experiment): the assistant's model once more, loaded without the one-example training
step Rasa 3.6's `RasaModel.load` runs before loading the weights, with its hold-out figures: bot/model_load.py, the
load the project's Rasa servers use since this profile found where the floor was.

Every profile is kept in bench/.cache/profiles/ by the model's content hash; --reuse reads a kept one instead of
loading the model again (the report says when and under which load each was measured). Figures go to --out, above
which a written "## What the profile shows" section is kept across runs.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # The script's own folder comes first on sys.path, where `bench` is no package: the repository root instead.
    sys.path[0] = str(ROOT)

CACHE = ROOT / "bench" / ".cache"
VARIANTS_DIR = CACHE / "variants"
RASA_CACHE = CACHE / "rasa-cache"
DEFAULT_MODEL = ROOT / "models" / "assistente.tar.gz"
DEFAULT_OUT = ROOT / "bench" / "results" / "load_profile.md"
HOLD_OUT_SETS = {"hold-out": ROOT / "tests" / "test_nlu.yml", "hurried": ROOT / "tests" / "test_nlu_hurried.yml"}
# Same inputs as the Makefile's TRAINING_INPUTS (a variant is retrained when one of them changes).
TRAINING_GLOBS = ("domain.yml", "data/*.yml", "data/*/*.yml", "components/*.py")
FIRST_MESSAGE = "olá, bom dia"
SECOND_MESSAGE = "quero abrir um chamado"
CHILD_TIMEOUT = 1800.0  # a load under contention on 2 shared cores can take minutes; a slow load is a figure
EXPERIMENT = "assistant, loaded without the training step (experiment)"
MARK = "@@checkpoint "  # the child's checkpoint lines on stdout start with this


# ---------------------------------------------------------------- parsing and attribution (pure, unit-tested)


def status_kb(status_text: str, field_name: str) -> int:
    """A `kB` field (VmRSS, VmHWM) of a /proc/<pid>/status text."""
    for line in status_text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise ValueError(f"{field_name} not in /proc status")


@dataclass(frozen=True)
class Checkpoint:
    """One measurement of the child: what had just finished, when, and the process's memory then."""

    label: str
    seconds: float  # wall time since the child's interpreter started
    cpu_seconds: float  # the child's CPU time (all threads, user + system): what contention does not inflate
    rss_kb: int
    hwm_kb: int
    # "phase" (import, unpack, first message...), "node" (the end of one graph node's load) or "part" (a step inside
    # a TensorFlow component's load: `<node> · <part>`, the node's own checkpoint then holds the rest of its load)
    kind: str = "phase"


def parse_checkpoints(output: str) -> list[Checkpoint]:
    """The checkpoint lines of a child's stdout (anything else it printed is ignored)."""
    return [Checkpoint(**json.loads(line[len(MARK):])) for line in output.splitlines() if line.startswith(MARK)]


PART = " · "
NODE_KINDS = ("node", "part")


def component_name(node_name: str) -> str:
    """`train_CountVectorsFeaturizer4` / `run_components.entities.PatternEntityExtractor7` → the class name."""
    name = node_name.split(PART)[0]
    for prefix in ("train_", "run_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    name = name.rsplit(".", 1)[-1]
    return name.rstrip("0123456789") or node_name


@dataclass(frozen=True)
class Step:
    """What one checkpoint cost: time and RSS since the previous checkpoint, and the peak so far."""

    label: str
    kind: str
    seconds: float
    cpu_seconds: float
    rss_delta_mb: float
    rss_mb: float
    hwm_mb: float


def steps(checkpoints: list[Checkpoint]) -> list[Step]:
    """Each checkpoint against the one before it (the first against zero: the interpreter's own start)."""
    result = []
    previous = Checkpoint("start", 0.0, 0.0, 0, 0)
    for point in checkpoints:
        result.append(Step(point.label, point.kind, point.seconds - previous.seconds,
                           point.cpu_seconds - previous.cpu_seconds,
                           (point.rss_kb - previous.rss_kb) / 1024, point.rss_kb / 1024, point.hwm_kb / 1024))
        previous = point
    return result


Cost = tuple[float, float, float]  # (wall s, CPU s, RSS delta MB)


def by_component(node_steps: list[Step]) -> dict[str, Cost]:
    """Node loads summed per component class: {class: (wall s, CPU s, RSS delta MB)}, in load order."""
    totals: dict[str, Cost] = {}
    for step in node_steps:
        name = component_name(step.label)
        seconds, cpu, mb = totals.get(name, (0.0, 0.0, 0.0))
        totals[name] = (seconds + step.seconds, cpu + step.cpu_seconds, mb + step.rss_delta_mb)
    return totals


def parts_of(node_steps: list[Step]) -> dict[str, dict[str, Cost]]:
    """The parts of each component's load that has any: {class: {part: cost}}; the node's own step is the rest."""
    with_parts = {component_name(step.label) for step in node_steps if step.kind == "part"}
    result: dict[str, dict[str, Cost]] = {name: {} for name in with_parts}
    for step in node_steps:
        name = component_name(step.label)
        if name in with_parts:
            part = step.label.split(PART)[1] if step.kind == "part" else "the rest (model object, compile, other)"
            seconds, cpu, mb = result[name].get(part, (0.0, 0.0, 0.0))
            result[name][part] = (seconds + step.seconds, cpu + step.cpu_seconds, mb + step.rss_delta_mb)
    return result


def split_significant(totals: dict[str, Cost], min_cpu: float, min_mb: float) -> tuple[dict[str, Cost], Cost, int]:
    """The components worth a line of their own, and the rest taken together (summed cost, count)."""
    shown = {name: row for name, row in totals.items() if row[1] >= min_cpu or abs(row[2]) >= min_mb}
    rest = [row for name, row in totals.items() if name not in shown]
    summed = (sum(row[0] for row in rest), sum(row[1] for row in rest), sum(row[2] for row in rest))
    return shown, summed, len(rest)


def archive_sizes(members: list[tuple[str, int]]) -> dict[str, float]:
    """MB of the files each component class keeps in a model archive, from (member path, bytes) pairs."""
    sizes: dict[str, float] = {}
    for path, size in members:
        parts = Path(path.lstrip("/")).parts
        if len(parts) >= 3 and parts[0] == "components":
            name = component_name(parts[1])
            sizes[name] = sizes.get(name, 0.0) + size / 2**20
    return sizes


# ---------------------------------------------------------------- variants of config.yml


def char_ngrams_3(config: dict) -> None:
    """char_wb n-grams 1–3 instead of 1–4 (fewer features for DIET and the ResponseSelector to embed)."""
    for component in config["pipeline"]:
        if component["name"] == "CountVectorsFeaturizer" and component.get("analyzer") == "char_wb":
            component["max_ngram"] = 3


def without_response_selector(config: dict) -> None:
    """No ResponseSelector: one TensorFlow model less (FAQ answers would need another design)."""
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] != "ResponseSelector"]


def small_response_selector(config: dict) -> None:
    """The ResponseSelector sized like DIET here: one transformer layer of 128, 128-wide sparse embeddings
    (Rasa's defaults for it are two layers of 256 and 512-wide embeddings of text and label)."""
    for component in config["pipeline"]:
        if component["name"] == "ResponseSelector":
            component.update(number_of_transformer_layers=1, transformer_size=128,
                             dense_dimension={"text": 128, "label": 128})


VARIANTS: dict[str, Callable[[dict], None]] = {
    "char3": char_ngrams_3,
    "no_rs": without_response_selector,
    "rs_small": small_response_selector,
}


def variant_config(base: dict, name: str) -> dict:
    config = copy.deepcopy(base)
    VARIANTS[name](config)
    return config


def training_digest(config: dict) -> str:
    """Content hash of a config and the training inputs it is trained with."""
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for path in sorted({p for pattern in TRAINING_GLOBS for p in ROOT.glob(pattern)}):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def train_variant(name: str) -> Path:
    """The variant's model, trained (once per content hash) with the project's domain and data."""
    config = variant_config(yaml.safe_load((ROOT / "config.yml").read_text()), name)
    model = VARIANTS_DIR / f"{name}-{training_digest(config)}.tar.gz"
    if model.is_file():
        return model
    VARIANTS_DIR.mkdir(parents=True, exist_ok=True)
    config_path = VARIANTS_DIR / f"{model.name[:-7]}.config.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    print(f"variant {name}: training {model.name} ...", flush=True)
    started = time.monotonic()
    with (VARIANTS_DIR / f"{model.name[:-7]}.train.log").open("w") as log:
        # cwd = the repository: the pipeline's custom components are imported from components/.
        subprocess.run([sys.executable, "-m", "rasa", "train", "--config", str(config_path), "--domain", "domain.yml",
                        "--data", "data", "--out", str(VARIANTS_DIR), "--fixed-model-name", model.name[:-7]],
                       cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True,
                       env={**os.environ, "RASA_CACHE_DIRECTORY": str(RASA_CACHE)})
    print(f"variant {name}: trained in {time.monotonic() - started:.0f} s", flush=True)
    return model


# ---------------------------------------------------------------- the child: one model, one fresh process


def checkpoint(label: str, started: float, kind: str = "phase") -> None:
    status = Path("/proc/self/status").read_text()
    point = {"label": label, "seconds": round(time.time() - started, 3),
             "cpu_seconds": round(time.process_time(), 3), "rss_kb": status_kb(status, "VmRSS"),
             "hwm_kb": status_kb(status, "VmHWM"), "kind": kind}
    print(MARK + json.dumps(point), flush=True)


def child(model: Path, started: float, evaluate: Path | None, predict_only: bool = False) -> None:
    """Load `model` as `rasa run` does, printing a checkpoint after each phase and each graph node's load; then,
    with `evaluate`, run the hold-out sets through it as `rasa test nlu` does (reports in evaluate/<set>/).
    `predict_only`: the server's own load (bot/model_load.py)."""
    checkpoint("interpreter started", started)
    import tensorflow  # noqa: F401  (Rasa imports it anyway; measured apart so its share is visible)
    checkpoint("import tensorflow", started)
    import asyncio

    import rasa.core.run  # noqa: F401  (what `rasa run` imports: the server, sanic, the agent)
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.graph import GraphNode
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog
    from rasa.utils.tensorflow.environment import setup_tf_environment
    checkpoint("import rasa (agent + server)", started)
    # What `rasa run` sets up before loading (rasa/__main__.py): log levels (INFO), TensorFlow's environment.
    configure_logging_and_warnings(None, warn_only_once=True, filter_repeated_logs=True)
    setup_tf_environment()
    configure_structlog(None)

    unpack = LocalModelStorage.from_model_archive.__func__

    def timed_unpack(cls: type, *args: Any, **kwargs: Any) -> Any:
        result = unpack(cls, *args, **kwargs)
        checkpoint("unpack the model archive", started)
        return result

    load_component = GraphNode._load_component
    loading: list[str] = []  # the node being loaded, if any

    def timed_load(node: GraphNode, **kwargs: Any) -> None:
        loading.append(node._node_name)
        try:
            load_component(node, **kwargs)
        finally:
            loading.pop()
        checkpoint(node._node_name, started, kind="node")

    # Rasa 3.6's RasaModel.load (DIET, ResponseSelector, TED): compile with Adam, fit on one example (builds the
    # weights and the optimizer's slots, traces the training step), load the weights, one inference (traces predict).
    from rasa.utils.tensorflow.models import RasaModel

    def timed(method: Callable[..., Any], part: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if loading:
                checkpoint(f"{loading[-1]}{PART}{part}", started, kind="part")
            return result
        return wrapper

    RasaModel.fit = timed(RasaModel.fit, "fit on one example (weights, Adam slots, training-step trace)")
    RasaModel.load_weights = timed(RasaModel.load_weights, "load the weights")
    RasaModel.run_inference = timed(RasaModel.run_inference, "first inference (predict trace)")
    if predict_only:
        from bot import model_load  # the Rasa server's own load (installed with its tracker store)

        model_load.install()

    LocalModelStorage.from_model_archive = classmethod(timed_unpack)
    GraphNode._load_component = timed_load
    agent = Agent.load(str(model))
    checkpoint("agent ready (the rest of Agent.load)", started)

    async def message(sender: str, text: str, label: str) -> None:
        await agent.log_message(UserMessage(text, sender_id=sender))
        checkpoint(f"{label}: NLU parse", started)
        await agent.predict_next_for_sender_id(sender)
        checkpoint(f"{label}: next action predicted", started)

    asyncio.run(message("profile-1", FIRST_MESSAGE, "first message"))
    asyncio.run(message("profile-2", SECOND_MESSAGE, "second message"))
    if evaluate is None:
        return
    from rasa.nlu.test import run_evaluation

    # `rasa test nlu --nlu SET --model MODEL --out DIR` is `run_evaluation` over the loaded agent's processor
    # (rasa/model_testing.py); one load serves both sets. Plots are left out: they do not change the reports.
    for set_name, path in HOLD_OUT_SETS.items():
        asyncio.run(run_evaluation(str(path), agent.processor, output_directory=str(evaluate / set_name),
                                   domain_path=str(ROOT / "domain.yml"), disable_plotting=True))


# ---------------------------------------------------------------- the parent: run children, test, report


@dataclass
class Profile:
    name: str
    model: Path
    checkpoints: list[Checkpoint]
    load_average: float
    nlu: dict[str, tuple[float, float | None]] | None = None  # set → (intent macro-F1, response accuracy)
    measured_at: str = ""  # UTC, minutes

    def at(self, label: str) -> Checkpoint:
        return next(point for point in self.checkpoints if point.label == label)

    @property
    def node_steps(self) -> list[Step]:
        return [step for step in steps(self.checkpoints) if step.kind in NODE_KINDS]


def model_digest(model: Path) -> str:
    return hashlib.sha256(model.read_bytes()).hexdigest()[:16]


def stored_profile(path: Path, name: str, model: Path) -> Profile:
    data = json.loads(path.read_text())
    nlu = {key: (row[0], row[1]) for key, row in data["nlu"].items()} if data["nlu"] else None
    return Profile(name, model, [Checkpoint(**point) for point in data["checkpoints"]], data["load_average"], nlu,
                   data["measured_at"])


def profile(name: str, model: Path, evaluate: bool, reuse: bool, predict_only: bool = False) -> Profile:
    """One model loaded in a fresh process; with `evaluate`, its hold-out figures too. Every profile is kept in
    bench/.cache/profiles/ by the model's content hash; with `reuse`, a kept one is read instead of measured again."""
    suffix = ("-nlu" if evaluate else "") + ("-predict-only" if predict_only else "")
    stored = CACHE / "profiles" / f"{model_digest(model)}{suffix}.json"
    if reuse and stored.is_file():
        print(f"{name}: profile of {model.name} read from {stored.relative_to(ROOT)}", flush=True)
        return stored_profile(stored, name, model)
    result = measure(name, model, evaluate, predict_only)
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text(json.dumps({"checkpoints": [vars(point) for point in result.checkpoints],
                                  "load_average": result.load_average, "nlu": result.nlu,
                                  "measured_at": result.measured_at}))
    return result


def measure(name: str, model: Path, evaluate: bool, predict_only: bool) -> Profile:
    print(f"{name}: loading {model.name} in a fresh process ...", flush=True)
    out = CACHE / "nlu" / (model.name[:-7] + ("-predict-only" if predict_only else ""))
    measured_at = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}"
    load_average = os.getloadavg()[0]
    started = time.time()
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(model), "--started", repr(started)]
    command += (["--evaluate", str(out)] if evaluate else []) + (["--predict-only-load"] if predict_only else [])
    done = subprocess.run(command, cwd=ROOT, capture_output=True,
                          text=True, timeout=CHILD_TIMEOUT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if done.returncode != 0:
        raise RuntimeError(f"{name}: the child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return Profile(name, model, parse_checkpoints(done.stdout), load_average, nlu_figures(out) if evaluate else None,
                   measured_at)


def nlu_figures(out: Path) -> dict[str, tuple[float, float | None]]:
    """Intent macro-F1 and response accuracy on each hold-out set, read from the reports as tests/nlu_gate.py does."""
    from tests.nlu_gate import intent_figures, response_accuracy

    figures: dict[str, tuple[float, float | None]] = {}
    for set_name in HOLD_OUT_SETS:
        intent_f1 = intent_figures(json.loads((out / set_name / "intent_report.json").read_text()))[0]
        responses = out / set_name / "response_selection_report.json"
        accuracy = response_accuracy(json.loads(responses.read_text())) if responses.is_file() else None
        figures[set_name] = (intent_f1, accuracy)
    return figures


def archive_mb(model: Path) -> float:
    return model.stat().st_size / 2**20


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f}"


def span(later: Checkpoint, earlier: Checkpoint) -> str:
    """Wall and CPU seconds between two checkpoints, as `wall (cpu)`."""
    return f"{later.seconds - earlier.seconds:.1f} ({later.cpu_seconds - earlier.cpu_seconds:.1f})"


def summary_table(profiles: list[Profile]) -> str:
    rows = ["| model | archive MB | RSS after imports | after unpack | after graph load | after 1st message | "
            "peak (VmHWM) | imports s | unpack + graph load s | 1st message s | start → answer s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    zero = Checkpoint("start", 0.0, 0.0, 0, 0)
    for p in profiles:
        imports, unpack = p.at("import rasa (agent + server)"), p.at("unpack the model archive")
        ready, first = p.at("agent ready (the rest of Agent.load)"), p.at("first message: next action predicted")
        rows.append(f"| {p.name} | {archive_mb(p.model):,.0f} | {mb(imports.rss_kb)} | {mb(unpack.rss_kb)} | "
                    f"{mb(ready.rss_kb)} | {mb(first.rss_kb)} | {mb(first.hwm_kb)} | {span(imports, zero)} | "
                    f"{span(ready, imports)} | {span(first, ready)} | {span(first, zero)} |")
    return "\n".join(rows)


def phases_table(p: Profile) -> str:
    """Every checkpoint of one model; the graph's nodes summed per component class, small ones together."""
    rows = [f"| {p.name}: step | wall s | CPU s | RSS Δ MB | RSS MB |", "|---|---:|---:|---:|---:|"]
    nodes_done = False
    for step in steps(p.checkpoints):
        if step.kind in NODE_KINDS:
            if not nodes_done:
                shown, (seconds, cpu, delta), count = split_significant(by_component(p.node_steps), 0.2, 5.0)
                for name, (node_seconds, node_cpu, node_mb) in shown.items():
                    rows.append(f"| &nbsp;&nbsp;load {name} | {node_seconds:.1f} | {node_cpu:.1f} | "
                                f"{node_mb:+,.0f} | |")
                rows.append(f"| &nbsp;&nbsp;load {count} other nodes | {seconds:.1f} | {cpu:.1f} | {delta:+,.0f} | |")
                nodes_done = True
            continue
        rows.append(f"| {step.label} | {step.seconds:.1f} | {step.cpu_seconds:.1f} | {step.rss_delta_mb:+,.0f} | "
                    f"{step.rss_mb:,.0f} |")
    return "\n".join(rows)


def model_files(model: Path) -> dict[str, float]:
    with tarfile.open(model) as archive:
        return archive_sizes([(member.name, member.size) for member in archive.getmembers() if member.isfile()])


def components_table(profiles: list[Profile]) -> str:
    """Per component class, side by side: CPU seconds of its load, the RSS it added, the MB of its files."""
    totals = [by_component(p.node_steps) for p in profiles]
    files = [model_files(p.model) for p in profiles]
    names = list(dict.fromkeys(name for total in totals for name in total))
    head = "| component | " + " | ".join(f"{p.name}: CPU s | RSS Δ MB | files MB" for p in profiles) + " |"
    rows = [head, "|---|" + "---:|---:|---:|" * len(profiles)]
    for name in names:
        cells = [f"{t[name][1]:.1f} | {t[name][2]:+,.0f} | {f.get(name, 0.0):,.1f}" if name in t else "— | — | —"
                 for t, f in zip(totals, files, strict=True)]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def figure(nlu: dict[str, tuple[float, float | None]], set_name: str, index: int) -> str:
    value = nlu.get(set_name, (None, None))[index]
    return "—" if value is None else f"{value:.3f}"


def parts_table(profiles: list[Profile]) -> str:
    rows = ["| model | component | part of its load | wall s | CPU s | RSS Δ MB |", "|---|---|---|---:|---:|---:|"]
    for p in profiles:
        for name, parts in parts_of(p.node_steps).items():
            for part, (seconds, cpu, delta) in parts.items():
                rows.append(f"| {p.name} | {name} | {part} | {seconds:.1f} | {cpu:.1f} | {delta:+,.0f} |")
    return "\n".join(rows)


def variants_table(profiles: list[Profile]) -> str:
    rows = ["| model | RSS after 1st message MB | peak MB | unpack + graph load s | "
            "intent F1 hold-out | intent F1 hurried | response acc. hold-out | response acc. hurried |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in profiles:
        first, ready = p.at("first message: next action predicted"), p.at("agent ready (the rest of Agent.load)")
        imports = p.at("import rasa (agent + server)")
        nlu = p.nlu or {}
        if "ResponseSelector" not in by_component(p.node_steps):  # its report then scores nothing: no answer
            nlu = {set_name: (row[0], None) for set_name, row in nlu.items()}
        rows.append(f"| {p.name} | {mb(first.rss_kb)} | {mb(first.hwm_kb)} | {span(ready, imports)} | "
                    f"{figure(nlu, 'hold-out', 0)} | {figure(nlu, 'hurried', 0)} | {figure(nlu, 'hold-out', 1)} | "
                    f"{figure(nlu, 'hurried', 1)} |")
    return "\n".join(rows)


def report(profiles: list[Profile], variants: list[Profile], started: datetime, command: str) -> str:
    from bench.runtime_memory import machine

    loads = "; ".join(f"{p.name} {p.measured_at} UTC, load {p.load_average:.2f}" for p in profiles + variants)
    parts = ["## Run", "", f"- date: {started:%Y-%m-%d %H:%M} UTC", f"- machine: {machine()}",
             f"- each model measured at (UTC) and the 1-min load average then: {loads}", f"- command: `{command}`",
             "- MB = 2^20 bytes of VmRSS of the loading process; s = wall time, with the process's CPU time "
             "(all threads, user + system) in brackets where both are shown; each model in a fresh process", "",
             "### Summary", "", summary_table(profiles + variants), "",
             "### Per component (sum of the graph nodes of each class)", "", components_table(profiles), "",
             "### Inside the TensorFlow components' load (`RasaModel.load`)", "", parts_table(profiles + variants), ""]
    for p in profiles:
        parts += [f"### Every step: {p.name}", "", phases_table(p), ""]
    if variants:
        parts += ["### Lighter variants of config.yml (measured only; config.yml unchanged)", "",
                  variants_table([p for p in profiles if p.nlu] + variants), ""]
    elif profiles[0].nlu:
        parts += ["### Hold-out figures", "", variants_table(profiles[:1]), ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare bot of `make bench`")
    parser.add_argument("--variants", nargs="*", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--reuse", action="store_true",
                        help="read a model's profile kept from an earlier run (bench/.cache/profiles/) if there is one")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--evaluate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--predict-only-load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-experiment", action="store_true",
                        help="skip the assistant's model loaded without Rasa's training step (bot/model_load.py)")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.started, args.evaluate, args.predict_only_load)
        return 0

    started = datetime.now(timezone.utc)
    command = "bench/load_profile.py " + " ".join(argv if argv is not None else sys.argv[1:])
    models = {"assistant": args.model.resolve()}
    if not args.no_baseline:
        from bench.bench import baseline_model  # the bench's own training path of the bare bot
        models["bare bot"] = baseline_model()
    variant_models = {f"variant {name}": train_variant(name) for name in args.variants}

    # The assistant's own hold-out figures stand beside the variants'; the bare bot's data is another domain.
    profiles = [profile(name, model, evaluate=name == "assistant", reuse=args.reuse) for name, model in models.items()]
    variants = [profile(name, model, evaluate=True, reuse=args.reuse) for name, model in variant_models.items()]
    if not args.no_experiment:
        variants.append(profile(EXPERIMENT, models["assistant"], evaluate=True, reuse=args.reuse, predict_only=True))

    text = report(profiles, variants, started, command)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    notes = kept_notes(args.out.read_text()) if args.out.is_file() else ""
    args.out.write_text(f"# `make load-profile`: where the Rasa server's memory and start time go\n\n"
                        f"`bench/load_profile.py` (see its docstring for the method).\n\n{notes}{text}\n")
    return 0


NOTES = "## What the profile shows"


def kept_notes(previous: str) -> str:
    """The written reading of the figures (from NOTES to the next `## Run`), kept when the figures are rewritten."""
    if NOTES not in previous:
        return ""
    notes = previous[previous.index(NOTES):]
    return notes[:notes.index("## Run")] if "## Run" in notes else notes.rstrip() + "\n\n"


if __name__ == "__main__":
    sys.exit(main())
