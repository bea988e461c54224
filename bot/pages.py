"""Server-rendered pages: the e-mail links' forms (follow-up, quality control, answer) and the Acessibilidade and
Privacidade pages.

Every value that comes from the database, the link or the user goes through `esc()` (html.escape, quotes
included) before it reaches the markup; the markup itself is fixed text. No scripts in the link forms: they work with
JavaScript off and under the server's Content-Security-Policy (the two information pages load only the
high-contrast switch, acessibilidade.js).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from backend.clock import format_br
from backend.vocabulary import CSS_EMAIL as EMAIL
from backend.vocabulary import CSS_HELP_SITE as HELP_CENTER
from backend.vocabulary import CSS_PHONE as PHONE
from backend.vocabulary import EVENT_LABELS

TEL = "tel:" + "".join(ch for ch in PHONE if ch.isdigit())

IMPACT_WORDS = {"alto": "alto", "medio": "médio", "baixo": "baixo"}

SCORES = {
    5: "5 — muito satisfeito",
    4: "4 — satisfeito",
    3: "3 — indiferente",
    2: "2 — insatisfeito",
    1: "1 — muito insatisfeito",
}


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def when(iso: str | None) -> str:
    """`dd/mm/aaaa hh:mm` (Brasília) from the ISO strings of the ticket JSON."""
    return format_br(datetime.fromisoformat(iso)) if iso else "—"


def paragraphs(text: str | None) -> str:
    """User text as it was typed: escaped, line breaks kept by CSS (white-space: pre-wrap)."""
    return f'<p class="texto-livre">{esc(text)}</p>'


def layout(title: str, body: str, scripts: bool = False) -> str:
    """A page of the site: the eMAG bar, the header with the menu, `body` in <main>, the footer. `scripts` adds
    the high-contrast switch (acessibilidade.js); the e-mail link forms run without any script."""
    script = '\n  <script src="/acessibilidade.js"></script>' if scripts else ""
    return f"""<!doctype html>
<html lang="pt-BR">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>{esc(title)} — Central de Serviços Serpro</title>
  <link rel="stylesheet" href="/style.css">{script}
</head>
<body class="pagina-link">
  {access_bar(contrast_switch=scripts)}
  <header class="topo">
    <div class="conteudo topo-linha">
      <div>
        <p class="marca">Serpro</p>
        <p class="titulo-site"><a href="/">Central de Serviços Serpro</a></p>
      </div>
      {menu()}
    </div>
  </header>
  <main id="conteudo" class="conteudo estreito" tabindex="-1">
{body}
  </main>
  {footer()}
</body>
</html>
"""


def access_bar(contrast_switch: bool) -> str:
    """The eMAG accessibility bar: shortcuts with access keys (Alt+1 content, Alt+2 menu, Alt+4 footer; no Alt+3
    because the site has no search), the accessibility page and, where scripts run, the high-contrast switch.
    The chat page (static/index.html) gets it too, where it says {{BARRA_ACESSIBILIDADE}}."""
    switch = ('\n        <li><button type="button" id="alto-contraste" class="alternar-contraste" aria-pressed="false">'
              'Alto contraste</button></li>') if contrast_switch else ""
    return f"""<nav class="barra-acessibilidade" aria-label="Atalhos de acessibilidade">
    <div class="conteudo barra-linha">
      <ul class="atalhos">
        <li><a href="#conteudo" accesskey="1">Ir para o conteúdo <span class="tecla">1</span></a></li>
        <li><a href="#menu" accesskey="2">Ir para o menu <span class="tecla">2</span></a></li>
        <li><a href="#rodape" accesskey="4">Ir para o rodapé <span class="tecla">4</span></a></li>
      </ul>
      <ul class="atalhos">
        <li><a href="/acessibilidade">Acessibilidade</a></li>{switch}
      </ul>
    </div>
  </nav>"""


def menu() -> str:
    return """<nav id="menu" class="menu" aria-label="Menu principal" tabindex="-1">
        <ul>
          <li><a href="/">Início</a></li>
          <li><a href="/acessibilidade">Acessibilidade</a></li>
          <li><a href="/privacidade">Privacidade</a></li>
        </ul>
      </nav>"""


def footer() -> str:
    return f"""<footer id="rodape" class="rodape" tabindex="-1">
    <div class="conteudo">
      <p>Central de Serviços Serpro (CSS) — atendimento 24x7 (24 horas por dia, 7 dias por semana)</p>
      <p>Telefone <a href="{TEL}">{PHONE}</a> · E-mail <a href="mailto:{EMAIL}">{EMAIL}</a>
         · Central de Ajuda <a href="https://{HELP_CENTER}" rel="noopener noreferrer">{HELP_CENTER}</a></p>
      <p><a href="/acessibilidade">Acessibilidade</a> · <a href="/privacidade">Privacidade</a></p>
    </div>
  </footer>"""


def channels_box() -> str:
    return f"""<div class="aviso">
      <p>Se precisar, fale com a Central de Serviços Serpro, que atende 24x7: telefone
      <a href="{TEL}">{PHONE}</a> ou e-mail <a href="mailto:{EMAIL}">{EMAIL}</a>,
      informando o número do acionamento.</p>
    </div>"""


# --- refusals -------------------------------------------------------------------------------------


def refusal(message: str) -> str:
    """A link that is incomplete, altered, expired or for another ticket: nothing is shown or changed."""
    return layout("Link não aceito", f"""    <h1>Não foi possível abrir este link</h1>
    <p class="erro" role="alert">{esc(message)}</p>
    <p>Por segurança, cada link enviado por e-mail abre apenas o seu próprio acionamento e vale por tempo
    limitado. Você também pode consultar seus acionamentos com o Assistente Serpro, na
    <a href="/">página da CSS</a>.</p>
    {channels_box()}""")


def not_found() -> str:
    return layout("Página não encontrada", f"""    <h1>Página não encontrada</h1>
    <p>O endereço não existe. Volte para a <a href="/">página da Central de Serviços Serpro</a>.</p>
    {channels_box()}""")


def bad_request(message: str) -> str:
    return layout("Pedido inválido", f"""    <h1>Pedido inválido</h1>
    <p class="erro" role="alert">{esc(message)}</p>
    {channels_box()}""")


# --- the follow-up form -----------------------------------------------------------------------------


def summary(ticket: Mapping[str, Any]) -> str:
    late = ' <strong class="atrasado">(prazo vencido)</strong>' if ticket.get("late") else ""
    if ticket.get("sla_status") == "pausado":
        late = " — suspenso enquanto aguardamos sua resposta"
    impact = f", impacto {esc(IMPACT_WORDS.get(ticket['impact'], ticket['impact']))}" if ticket.get("impact") else ""
    return f"""<dl class="ficha">
      <dt>Situação</dt><dd class="situacao" data-situacao="{esc(ticket['status'])}">{esc(ticket['status_label'])}</dd>
      <dt>Nível de suporte</dt><dd>{esc(ticket['level'])}</dd>
      <dt>Serviço</dt><dd>{esc(ticket['service'])}</dd>
      <dt>Tipo</dt><dd>{esc(ticket['category_label'])}{impact} · prioridade {esc(ticket['priority_label'])}</dd>
      <dt>Aberto em</dt><dd>{esc(when(ticket['created_at']))}</dd>
      <dt>Prazo de atendimento (ANS)</dt><dd>{esc(when(ticket['due_at']))} (horário de Brasília){late}</dd>
      <dt>Solicitante</dt><dd>{esc(ticket['requester_name'])}</dd>
    </dl>"""


def history(ticket: Mapping[str, Any]) -> str:
    rows = []
    for event in ticket["history"]:
        label = EVENT_LABELS.get(event["kind"], event["kind"])
        if event["kind"] in ("forwarded", "sla_breached"):
            label = f"{label} (nível {event['level']})"
        note = paragraphs(event["text"]) if event.get("text") else ""
        rows.append(f"""        <tr>
          <td>{esc(when(event['at']))}</td>
          <td>{esc(label)}{note}</td>
          <td>{esc(event['actor'])}</td>
        </tr>""")
    return f"""<table class="historico">
      <caption>Histórico</caption>
      <thead><tr><th scope="col">Quando</th><th scope="col">O que aconteceu</th><th scope="col">Por</th></tr></thead>
      <tbody>
{chr(10).join(rows)}
      </tbody>
    </table>"""


def follow_up(ticket: Mapping[str, Any]) -> str:
    solution = ""
    if ticket.get("solution") and ticket["status"] in ("resolvido", "fechado"):
        solution = f"<h2>Solução aplicada</h2>{paragraphs(ticket['solution'])}"
    next_step = {
        "resolvido": "Avalie o atendimento pelo link do e-mail com a solução; se discordar dela, você pode "
                     "reabrir o acionamento no mesmo formulário.",
        "aguardando_usuario": "A equipe de suporte aguarda informações suas: responda pelo link do e-mail com a "
                              "pergunta, com o Assistente Serpro ou pelos canais abaixo. Enquanto isso, o prazo "
                              "de atendimento (ANS) fica suspenso.",
    }.get(ticket["status"], "")
    complements = ""
    if ticket["complements"]:
        items = "".join(f"<li>{esc(when(c['at']))}: {paragraphs(c['text'])}</li>" for c in ticket["complements"])
        complements = f"<h2>Complementos</h2><ul class=\"complementos\">{items}</ul>"
    return layout(f"Acionamento {ticket['number']}", f"""    <h1>Acionamento <span class="numero">{esc(ticket['number'])}</span></h1>
    <p class="subtitulo-pagina">Formulário de consulta de acionamentos</p>
    {summary(ticket)}
    {f'<p class="proximo-passo">{esc(next_step)}</p>' if next_step else ''}
    <h2>Descrição</h2>
    {paragraphs(ticket['description'])}
    {complements}
    {solution}
    {history(ticket)}
    {channels_box()}""")


# --- the answer to support's question ----------------------------------------------------------------


def answer_form(ticket: Mapping[str, Any], token: str, text: str = "", error: str | None = None) -> str:
    problem = ""
    if error:
        problem = f"""<div class="erro" role="alert" id="erros" tabindex="-1">
      <p>Não foi possível registrar a resposta; nada foi alterado:</p><ul><li>{esc(error)}</li></ul>
    </div>"""
    return layout(f"Resposta ao acionamento {ticket['number']}", f"""    <h1>Resposta ao acionamento <span class="numero">{esc(ticket['number'])}</span></h1>
    <p class="subtitulo-pagina">A equipe de suporte precisa de uma informação sua</p>
    {problem}
    <h2>Pergunta da equipe de suporte</h2>
    {paragraphs(ticket['pending_question'])}
    {summary(ticket)}
    <form method="post" action="/resposta/{esc(ticket['number'])}" class="formulario-resposta">
      <input type="hidden" name="t" value="{esc(token)}">
      <label for="resposta">Sua resposta</label>
      <textarea id="resposta" name="resposta" rows="5" maxlength="10000" required>{esc(text)}</textarea>
      <p class="dica">Enquanto aguardamos sua resposta, o prazo de atendimento (ANS) fica suspenso; ele volta a
      contar assim que você responder.</p>
      <button type="submit">Enviar resposta</button>
    </form>
    {channels_box()}""")


def answer_done(ticket: Mapping[str, Any], follow_url: str) -> str:
    return layout(f"Resposta ao acionamento {ticket['number']}", f"""    <h1>Resposta ao acionamento <span class="numero">{esc(ticket['number'])}</span></h1>
    <p class="sucesso" role="status">Obrigado! Sua resposta foi registrada e o acionamento {esc(ticket['number'])}
    voltou para a equipe de suporte. Prazo de atendimento (ANS): {esc(when(ticket['due_at']))} (horário de Brasília).</p>
    {summary(ticket)}
    <p><a href="{esc(follow_url)}">Acompanhar o acionamento</a></p>
    {channels_box()}""")


def answer_unavailable(ticket: Mapping[str, Any], message: str, follow_url: str) -> str:
    """The ticket is not waiting for the user any more (already answered, resolved...)."""
    return layout(f"Resposta ao acionamento {ticket['number']}", f"""    <h1>Resposta ao acionamento <span class="numero">{esc(ticket['number'])}</span></h1>
    <p class="aviso-texto" role="status">{esc(message)}</p>
    {summary(ticket)}
    <p><a href="{esc(follow_url)}">Acompanhar o acionamento</a></p>
    {channels_box()}""")


# --- the quality-control form -----------------------------------------------------------------------


@dataclass
class EvaluationAnswers:
    """What the user sent (or nothing yet): kept to re-render the form after a refusal."""

    score: str = ""
    comment: str = ""
    decision: str = ""
    reason: str = ""
    errors: list[str] = field(default_factory=list)


def evaluation_form(ticket: Mapping[str, Any], token: str, answers: EvaluationAnswers | None = None) -> str:
    answers = answers or EvaluationAnswers()
    errors = ""
    if answers.errors:
        items = "".join(f"<li>{esc(e)}</li>" for e in answers.errors)
        errors = f"""<div class="erro" role="alert" id="erros" tabindex="-1">
      <p>Não foi possível registrar a avaliação; nada foi alterado:</p><ul>{items}</ul>
    </div>"""
    scores = "\n".join(
        f'        <label class="opcao"><input type="radio" name="nota" value="{value}" required'
        f'{" checked" if answers.score == str(value) else ""}> {esc(label)}</label>'
        for value, label in SCORES.items()
    )

    def decision(value: str, label: str) -> str:
        checked = " checked" if answers.decision == value else ""
        return (f'<label class="opcao"><input type="radio" name="decisao" value="{value}" required{checked}> '
                f'{esc(label)}</label>')

    return layout(f"Avaliação do acionamento {ticket['number']}", f"""    <h1>Avaliação do acionamento <span class="numero">{esc(ticket['number'])}</span></h1>
    <p class="subtitulo-pagina">Formulário de controle de qualidade</p>
    {errors}
    {summary(ticket)}
    <h2>Descrição</h2>
    {paragraphs(ticket['description'])}
    <h2>Solução aplicada</h2>
    {paragraphs(ticket['solution'])}
    <form method="post" action="/avaliacao/{esc(ticket['number'])}" class="formulario-avaliacao">
      <input type="hidden" name="t" value="{esc(token)}">
      <fieldset>
        <legend>Como você avalia o atendimento?</legend>
{scores}
      </fieldset>
      <label for="comentario">Comentário (opcional)</label>
      <textarea id="comentario" name="comentario" rows="3" maxlength="2000">{esc(answers.comment)}</textarea>
      <fieldset>
        <legend>Você concorda com a solução aplicada?</legend>
        {decision("concordo", "Concordo — o acionamento será fechado")}
        {decision("discordo", "Discordo — o acionamento será reaberto")}
      </fieldset>
      <label for="motivo">Motivo da reabertura (obrigatório se você discordar)</label>
      <textarea id="motivo" name="motivo" rows="3" maxlength="2000" aria-describedby="motivo-dica">{esc(answers.reason)}</textarea>
      <p id="motivo-dica" class="dica">Conte o que continua acontecendo, para a equipe de suporte retomar o atendimento.</p>
      <button type="submit">Enviar avaliação</button>
    </form>
    {channels_box()}""")


def evaluation_done(ticket: Mapping[str, Any], follow_url: str) -> str:
    if ticket["status"] == "fechado":
        outcome = ("<p class=\"sucesso\" role=\"status\">Obrigado pela avaliação! O acionamento "
                   f"{esc(ticket['number'])} foi fechado.</p>")
    else:
        outcome = (f"<p class=\"sucesso\" role=\"status\">Obrigado pela avaliação. O acionamento "
                   f"{esc(ticket['number'])} foi reaberto e volta a ser tratado pela Central de Serviços Serpro. "
                   f"Novo prazo de atendimento (ANS): {esc(when(ticket['due_at']))} (horário de Brasília). "
                   "Você receberá um e-mail com os detalhes.</p>")
    return layout(f"Avaliação do acionamento {ticket['number']}", f"""    <h1>Avaliação do acionamento <span class="numero">{esc(ticket['number'])}</span></h1>
    {outcome}
    {summary(ticket)}
    <p><a href="{esc(follow_url)}">Acompanhar o acionamento</a></p>
    {channels_box()}""")


def evaluation_unavailable(ticket: Mapping[str, Any], message: str, follow_url: str) -> str:
    """The ticket is not waiting for an evaluation any more (already evaluated, closed, reopened...)."""
    return layout(f"Avaliação do acionamento {ticket['number']}", f"""    <h1>Avaliação do acionamento <span class="numero">{esc(ticket['number'])}</span></h1>
    <p class="aviso-texto" role="status">{esc(message)}</p>
    {summary(ticket)}
    <p><a href="{esc(follow_url)}">Acompanhar o acionamento</a></p>
    {channels_box()}""")


# --- information pages ------------------------------------------------------------------------------


def accessibility() -> str:
    """The accessibility statement (eMAG 3.1): conformance, shortcuts, contrast, zoom, how to report a barrier."""
    return layout("Acessibilidade", f"""    <h1>Acessibilidade</h1>
    <p>Esta página e o Assistente Serpro seguem o <strong>eMAG 3.1</strong> (Modelo de Acessibilidade em Governo
    Eletrônico) e buscam conformidade com as <strong>WCAG 2.1, nível AA</strong>.</p>
    <h2>Como verificamos</h2>
    <ul>
      <li>A cada mudança, um teste automático abre a página em um navegador e verifica, com a ferramenta axe-core,
      as regras WCAG 2.0 e 2.1 dos níveis A e AA: a página, o chat fechado e aberto, a saudação, as respostas com
      botões, respostas longas, o aviso de falta de resposta, o seletor "entrar como", os formulários dos links
      enviados por e-mail e suas páginas de erro. Nenhuma violação é aceita.</li>
      <li>O mesmo teste abre um acionamento usando apenas o teclado, e usa o chat com zoom de 200 % e em uma
      tela de 320 pixels de largura, sem rolagem horizontal.</li>
      <li>Testes automáticos não encontram todas as barreiras. Se você encontrar uma, conte para nós (veja abaixo).</li>
    </ul>
    <h2>Teclas de atalho</h2>
    <table class="historico atalhos-tabela">
      <caption>Atalhos da barra de acessibilidade</caption>
      <thead><tr><th scope="col">Atalho</th><th scope="col">Leva para</th></tr></thead>
      <tbody>
        <tr><td><kbd>Alt</kbd> + <kbd>1</kbd></td><td>o conteúdo da página</td></tr>
        <tr><td><kbd>Alt</kbd> + <kbd>2</kbd></td><td>o menu principal</td></tr>
        <tr><td><kbd>Alt</kbd> + <kbd>4</kbd></td><td>o rodapé, com os telefones e e-mails da CSS</td></tr>
      </tbody>
    </table>
    <p>No Firefox, use <kbd>Alt</kbd> + <kbd>Shift</kbd> + número; no macOS, <kbd>Control</kbd> + <kbd>Option</kbd>
    + número. Não há <kbd>Alt</kbd> + <kbd>3</kbd> (busca) porque o site não tem busca.</p>
    <p>No chat: <kbd>Enter</kbd> envia a mensagem, <kbd>Shift</kbd> + <kbd>Enter</kbd> quebra a linha e
    <kbd>Esc</kbd> fecha o chat. Os botões de resposta são alcançados com <kbd>Tab</kbd>.</p>
    <h2>Alto contraste e tamanho do texto</h2>
    <p>O botão "Alto contraste", na barra do topo, troca as cores da página e do chat por texto claro sobre fundo
    escuro. A escolha fica guardada neste navegador. Para aumentar ou diminuir o texto, use o zoom do navegador:
    <kbd>Ctrl</kbd> + <kbd>+</kbd> e <kbd>Ctrl</kbd> + <kbd>-</kbd>.</p>
    <h2>Relatar uma barreira de acessibilidade</h2>
    <p>Fale com a Central de Serviços Serpro, que atende 24x7, pelo telefone
    <a href="{TEL}">{PHONE}</a> ou pelo e-mail <a href="mailto:{EMAIL}">{EMAIL}</a>. Diga em que página
    estava, o que tentou fazer e, se puder, o navegador e a tecnologia assistiva que usa.</p>""", scripts=True)


def privacy(retention_days: int) -> str:
    """What the chat keeps about people, for how long and why (LGPD, Lei nº 13.709/2018)."""
    days = f"{retention_days} dia" + ("" if retention_days == 1 else "s")
    return layout("Privacidade", f"""    <h1>Privacidade no Assistente Serpro</h1>
    <p>Como o chat desta página trata os seus dados pessoais, conforme a Lei Geral de Proteção de Dados Pessoais
    (LGPD, Lei nº 13.709/2018).</p>
    <h2>O que a conversa guarda</h2>
    <ul>
      <li>As mensagens da conversa: o que você escreveu e as respostas do assistente, ligadas a um código
      aleatório da conversa criado pelo seu navegador.</li>
      <li>CPF, e-mail e telefone que você digitar ficam cifrados só enquanto o formulário que precisa deles está em
      andamento; depois, ficam guardados apenas mascarados (o CPF como xxx.456.789-xx). O chat nunca mostra de volta
      um CPF completo.</li>
      <li>Quem você é fica registrado apenas como um código calculado a partir do CPF, que não permite descobrir o
      CPF: ele serve para atender um pedido de exclusão das suas conversas.</li>
      <li>A identificação da Área do Cliente é conferida a cada mensagem e nunca é guardada.</li>
    </ul>
    <h2>Por quanto tempo</h2>
    <p>A conversa é apagada automaticamente <strong>{esc(days)}</strong> depois da última mensagem.</p>
    <h2>Para quê</h2>
    <p>Para atender você: registrar e acompanhar acionamentos, gerenciar os contatos da sua empresa e continuar a
    conversa se a página for recarregada ou o serviço for reiniciado.</p>
    <h2>No seu navegador</h2>
    <p>A conversa também fica na memória desta aba do navegador e some quando a aba é fechada. A preferência de
    alto contraste fica guardada no navegador.</p>
    <h2>Seus direitos</h2>
    <ul>
      <li><strong>Apagar esta conversa</strong>: no chat, o botão "Apagar esta conversa" apaga a conversa do
      servidor e desta página, depois de uma confirmação. Os acionamentos registrados continuam no sistema de
      atendimento da CSS: apagar a conversa não apaga acionamentos.</li>
      <li>Para pedir a exclusão de todas as suas conversas ou informações sobre os seus dados, fale com a Central
      de Serviços Serpro, 24x7: telefone <a href="{TEL}">{PHONE}</a> ou e-mail
      <a href="mailto:{EMAIL}">{EMAIL}</a>.</li>
    </ul>""", scripts=True)
