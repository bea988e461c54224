"""Reading a user's words for the ticket form: category, impact, yes/no. Pure functions."""
from __future__ import annotations

from backend.catalogue import fold

# Words that point to each category, matched on folded text (no accents, lower case).
_CATEGORY_HINTS = {
    "problema": ("problema", "erro", "falha", "fora do ar", "nao funciona", "nao esta funcionando", "caiu",
                 "parado", "parou", "indisponivel", "lento", "travando", "travou", "nao consigo", "nao carrega",
                 "instavel", "bug", "quebrado"),
    "duvida": ("duvida", "como funciona", "como faco", "gostaria de saber", "queria saber", "qual e", "pergunta"),
    "solicitacao": ("solicitacao", "solicito", "solicitar", "pedido", "preciso de acesso", "liberar", "liberacao",
                    "emitir", "emissao", "renovar", "renovacao", "cadastrar", "habilitar", "instalar", "segunda via"),
}
_IMPACT_HINTS = {
    "alto": ("alto", "alta", "todos", "todo mundo", "muitos", "parado", "critico", "urgente", "grave"),
    "medio": ("medio", "media", "parte", "alguns", "algumas"),
    "baixo": ("baixo", "baixa", "pouco", "poucos", "so eu", "apenas eu", "alternativa", "leve"),
}
# An answer is read by its first word: "pode cadastrar", "concordo, ficou resolvido", "não, o problema continua".
_YES = {"sim", "s", "pode", "claro", "confirmo", "confirmar", "confirma", "isso", "ok", "certo", "correto", "declaro",
        "aceito", "positivo", "concordo", "exato", "perfeito", "beleza", "blz", "yes", "uhum", "afirmativo"}
_NO = {"nao", "n", "negativo", "errado", "nenhum", "discordo", "nunca", "jamais", "no"}


def _mentions(text: str, hints: tuple[str, ...]) -> bool:
    padded = f" {fold(text)} "
    return any(f" {hint} " in padded for hint in hints)


def infer_category(text: str | None) -> str | None:
    """The category a message points to, when exactly one does."""
    found = [code for code, hints in _CATEGORY_HINTS.items() if _mentions(text or "", hints)]
    return found[0] if len(found) == 1 else None


def parse_category(text: str | None) -> str | None:
    """A category chosen by button or typed ("é um problema", "duvida")."""
    return infer_category(text)


def parse_impact(text: str | None) -> str | None:
    found = [code for code, hints in _IMPACT_HINTS.items() if _mentions(text or "", hints)]
    return found[0] if len(found) == 1 else None


def parse_yes_no(text: str | None, intent: str | None) -> bool | None:
    """True/False from the NLU intent (afirmar/negar) or the words themselves; None if neither."""
    if intent == "afirmar":
        return True
    if intent == "negar":
        return False
    words = fold(text or "").split()
    if not words:
        return None
    if words[0] in _YES or words[:2] == ["com", "certeza"]:
        return True
    if words[0] in _NO:
        return False
    return None


def is_detailed(text: str | None) -> bool:
    """Whether a first message is itself a usable ticket description (not just "quero abrir um chamado")."""
    words = fold(text or "").split()
    generic = {"quero", "queria", "gostaria", "de", "abrir", "um", "uma", "chamado", "acionamento", "ticket",
               "solicitacao", "registrar", "novo", "nova", "preciso", "por", "favor", "pf", "pfv", "ss", "protocolo",
               "ocorrencia", "criar", "fazer", "oi", "ola", "bom", "dia", "boa", "tarde", "noite", "abre", "abra",
               "o", "a", "me", "ajuda", "ajudar", "pode", "voce", "vc", "suporte", "atendimento"}
    return len([w for w in words if w not in generic]) >= 3
