"""Reading a user's words for the ticket form: category, impact, yes/no. Pure functions."""
from __future__ import annotations

import re

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
    return describes_what_happens(text)


# The description judge. A first message is a description when it says something beyond the service, the category
# and the wish to open a ticket: a symptom, an error, since when, who is affected, what is asked. Decided on the
# labelled set bench/descriptions.yml (`python bench/description_judge.py` prints precision and recall).
_STOPWORDS = frozenset("""
    o a os as um uma uns umas de do da dos das no na nos nas num numa em e ou com para pra pro pros pras por pelo pela
    pelos pelas ao aos que se eu me mim meu minha meus minhas nosso nossa nossos nossas seu sua seus suas esta estao
    estou estamos esta ta to tou e foi sao ser sendo estar isso esse essa este deste desta desse dessa aqui ai la vc
    vcs voce voces pode podem poderia poderiam podia alguem algo isto sobre tem tenho temos tendo ter ja so mais muito
    muita qual quais como onde quando porque pq q
""".split())
# The wish to open a ticket, politeness, urgency, the category and its vague synonyms, the impact scale.
_GENERIC = frozenset("""
    quero queria gostaria preciso precisamos precisava abrir abre abra abrindo registrar registra registre registro
    criar crie fazer faz faca chamado chamados acionamento acionamentos ticket tickets solicitacao solicitacoes
    solicitar ss protocolo ocorrencia novo nova favor pf pfv pls oi ola bom boa dia tarde noite obrigado obrigada
    ajuda ajudar ajudem help suporte tecnico atendimento urgente urgencia urgentemente socorro problema problemas
    probleminha erro erros falha falhas defeito bug bugs duvida duvidas pergunta reclamar reclamacao reportar relatar
    informar funciona funcionando funcionar funcionou direito sistema sistemas servico servicos errado errada coisa
    algum alguma dando deu da dar apresentando apresenta ocorrendo acontecendo aconteceu consigo consegue conseguimos
    usar utilizar ver veja verificar verifiquem olhar resolver rapido vcs impacto alto alta medio media baixo baixa
    prioridade critico critica grave
""".split())
# Words of the catalogue's service names and their synonyms (data/nlu/sinonimos.yml): the service is not a description.
_SERVICE_WORDS = frozenset("""
    datavalid data valid datavalide consulta consultas cpf cnpj consultacpf consultacnpj area cliente portal
    certificado certificados digital digitais ecpf ecnpj compartilha compartilharfb rfb receita federal financeiro
    faturamento serpro api
""".split())
# A symptom that is a description by itself: "o Datavalid caiu".
_STRONG = frozenset("caiu parou parado fora lento lenta lentidao travando travou trava timeout indisponivel offline "
                    "instavel".split())
_NEGATIONS = frozenset("nao nunca sem ninguem nenhum nenhuma".split())
_MIN_SCORE = 2


def describes_what_happens(text: str | None) -> bool:
    """Whether a message carries a usable description: two informative words, or one with a negation ("não é
    reconhecido") or a code/time ("erro 503"), or a symptom strong enough alone ("caiu", "fora do ar")."""
    if not text or text.lstrip().startswith("/"):
        return False
    words = fold(text).split()
    informative = [w for w in words if w not in _STOPWORDS and w not in _GENERIC and w not in _SERVICE_WORDS
                   and w not in _NEGATIONS and not w.isdigit()]
    score = len(informative) + sum(1 for w in informative if w in _STRONG)
    if informative or any(w.isdigit() for w in words):
        score += any(w in _NEGATIONS for w in words) + any(w.isdigit() for w in words)
    return score >= _MIN_SCORE


# --- what a first message states besides its intent -----------------------------------------------------------------

_STATED_IMPACT = re.compile(r"\bimpacto\s+(?:e\s+|eh\s+|de\s+|:\s*)?(alto|alta|medio|media|baixo|baixa)\b"
                            r"|\b(alto|medio|baixo)\s+impacto\b")
_IMPACT_CODES = {"alto": "alto", "alta": "alto", "medio": "medio", "media": "medio", "baixo": "baixo", "baixa": "baixo"}


def stated_impact(text: str | None) -> str | None:
    """An impact the user stated in so many words ("impacto alto", "médio impacto"); hints such as "todos" in a
    description are not enough to decide the priority for them."""
    match = _STATED_IMPACT.search(fold(text or ""))
    return _IMPACT_CODES[match.group(1) or match.group(2)] if match else None


_CONNECTORS = re.compile(r"^(?:[\s:,;.\-–—]|com\b|dizendo\b|informando\b|que\b|o seguinte\b|porque\b|pois\b)+",
                         re.IGNORECASE)


def said_after(rest: str | None) -> str | None:
    """The free text after a ticket number ("SS-2026-000123: o erro voltou às 14h" → "o erro voltou às 14h"), when it
    carries something beyond politeness; None otherwise. Kept as typed, apart from the leading connectors."""
    text = _CONNECTORS.sub("", (rest or "").strip()).strip()
    return text if _informative(fold(text).split()) else None


def _informative(words: list[str]) -> list[str]:
    return [w for w in words if w not in _STOPWORDS and w not in _GENERIC and w not in _SERVICE_WORDS]


# An evaluation in one message: "avaliar o SS-…: nota 4, o problema foi resolvido, atendimento rápido".
_SCORE = re.compile(r"\bnota\s*(?:e\s+)?(\d+|um|uma|dois|duas|tres|quatro|cinco)\b"
                    r"|\b(\d+|um|uma|dois|duas|tres|quatro|cinco)\s*(?:estrelas?|/\s*5|de\s+5)\b"
                    r"|\bdou\s+(?:um\s+|uma\s+)?(\d+|um|dois|tres|quatro|cinco)\b")
_NUMBER_WORDS = {"um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5}
_DISAGREE = ("nao resolveu", "nao resolvido", "nao foi resolvido", "nao ficou resolvido", "nao concordo", "discordo",
             "nao funcionou", "nao funciona", "nao deu certo", "continua", "persiste", "voltou", "ainda nao")
_AGREE = ("resolvido", "resolveu", "resolvida", "concordo", "funcionou", "funcionando", "solucionado", "deu certo",
          "ficou bom", "ficou otimo", "tudo certo", "normalizado", "normalizou")
# Words of the request itself ("quero avaliar o chamado"): a clause made only of them is no comment.
_EVALUATION_WORDS = frozenset("quero queria gostaria avaliar avaliacao avalio avaliando avaliei acionamento chamado "
                              "ss nota favor".split())


def stated_score(clause: str) -> int | None:
    """A score given in so many words ("nota 4", "5 estrelas", "4/5", "dou 3"); None otherwise (a bare number in a
    comment, "levou 3 dias", is not a score). Out-of-range scores are returned for the form to refuse."""
    match = _SCORE.search(fold(clause))
    if not match:
        return None
    value = next(group for group in match.groups() if group)
    return _NUMBER_WORDS[value] if value in _NUMBER_WORDS else int(value)


def stated_agreement(clause: str) -> bool | None:
    """Whether a clause says the solution worked (True), did not (False), or neither (None)."""
    padded = f" {fold(clause)} "
    if any(f" {phrase} " in padded for phrase in _DISAGREE):
        return False
    if any(f" {phrase} " in padded for phrase in _AGREE):
        return True
    return None


def read_evaluation(text: str) -> dict[str, object]:
    """What an evaluation message states, with the ticket number already taken out: `nota`, `concorda` and the other
    clauses as `comentario` (agreeing) or `motivo` (disagreeing). Only what was stated is returned; when a score or
    an agreement was stated and nothing else, the (optional) comment is "-" so it is not asked."""
    clauses = [c.strip() for c in re.split(r"[,;:.!?\n]+|\s+-\s+", text) if c.strip()]
    found: dict[str, object] = {}
    rest: list[str] = []
    disagreement: str | None = None
    for clause in clauses:
        score = stated_score(clause)
        agreement = stated_agreement(clause)
        if score is not None and "nota" not in found:
            found["nota"] = score
        if agreement is not None and "concorda" not in found:
            found["concorda"] = agreement
            disagreement = clause if agreement is False else None
        elif score is None and [w for w in fold(clause).split() if w not in _STOPWORDS | _EVALUATION_WORDS]:
            rest.append(clause)
    if not found:
        return {}
    said = ", ".join(rest)
    if found.get("concorda") is False:
        # The reason: what else was said, or the disagreement itself when it tells something ("o erro continua").
        reason = said or (disagreement if disagreement and len(disagreement.split()) >= 3 else "")
        if reason:
            found["motivo"] = reason
        found["comentario"] = "-"
    else:
        found["comentario"] = said or "-"
    return found
