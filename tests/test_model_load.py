"""bot/model_load.py (RasaModel.load without its one-example training) against Rasa's own load, on the trained model:
the same intents and confidences, FAQ answers, entities and next-action scores, for varied messages and turns."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

MODEL = Path(__file__).resolve().parent.parent / "models" / "assistente.tar.gz"
MESSAGES = [
    "oi", "quero abrir um acionamento", "o datavalid ta fora do ar desde cedo, erro 503 pra todo mundo",
    "qual a situação do SS-2026-000123?", "como funciona a CSS?", "qual o telefone de vcs",
    "cadastra a Maria Souza, maria.souza@orgao.gov.br, cpf 529.982.247-25", "quero remover um contato",
    "nota 4, resolveu sim", "quero reabrir o chamado", "falar com atendente", "qual o prazo do ss-2026-7",
    "obrigado", "sim", "não", "cancelar", "xyzzy qwerty", "me conta uma piada",
]
# Turns after which the next action is predicted (the first message of a conversation, then two in a row).
CONVERSATIONS = [["oi"], ["quero abrir um acionamento"], ["como funciona a CSS?", "obrigado"],
                 ["me conta uma piada", "xyzzy qwerty"], ["quero remover um contato", "cancelar"]]
TOLERANCE = 1e-5


async def _predictions() -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    agent = Agent.load(str(MODEL))
    nodes = agent.processor.graph_runner._instantiated_nodes.values()  # type: ignore[attr-defined]
    ted = next(node._component for node in nodes if type(node._component).__name__ == "TEDPolicy")
    parsed = {text: await agent.parse_message(text) for text in MESSAGES}
    next_actions = []
    for turns in CONVERSATIONS:
        events: list[Any] = [ActionExecuted(ACTION_LISTEN_NAME)]
        for text in turns:
            parse = parsed.get(text) or await agent.parse_message(text)
            events += [UserUttered(text, parse["intent"], parse["entities"], parse), ActionExecuted(ACTION_LISTEN_NAME)]
        tracker = DialogueStateTracker.from_events("load", events[:-1], slots=agent.domain.slots)
        prediction = agent.processor._predict_next_with_tracker(tracker)  # the ensemble: mostly rules and memory
        own = ted.predict_action_probabilities(tracker, agent.domain)  # so TED's own scores too
        next_actions.append((prediction.policy_name, prediction.probabilities, own.probabilities))
    return {"parsed": parsed, "next_actions": next_actions, "actions": agent.domain.action_names_or_texts}


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= TOLERANCE
    return a == b


def test_the_lighter_load_predicts_what_rasas_load_predicts() -> None:
    if not MODEL.is_file():
        pytest.fail(f"modelo não encontrado: {MODEL} — rode `make model` / no trained model", pytrace=False)
    from bot import model_load

    model_load.uninstall()
    try:
        rasas = asyncio.run(_predictions())
    finally:
        model_load.install()
    ours = asyncio.run(_predictions())

    assert len(ours["parsed"]) == len(MESSAGES)
    for text in MESSAGES:
        assert _close(ours["parsed"][text], rasas["parsed"][text]), (text, ours["parsed"][text], rasas["parsed"][text])
    assert _close(ours["next_actions"], rasas["next_actions"])
    # The comparison is not vacuous: several intents, a FAQ answer and TED's confident scores were compared.
    intents = {parse["intent"]["name"] for parse in ours["parsed"].values()}
    assert len(intents) >= 8, intents
    assert any(parse.get("response_selector", {}).get("faq", {}).get("response", {}).get("responses")
               for parse in ours["parsed"].values())
    _, _, scores = ours["next_actions"][1]  # TED after "quero abrir um acionamento": its trained answer, far ahead
    # (TED's scores are spread over ~150 actions: 0.45 against 0.02 for the next one with the 2026-12-02 model)
    best, second = sorted(scores, reverse=True)[:2]
    assert ours["actions"][scores.index(best)] == "action_preparar_acionamento" and best > 10 * second
