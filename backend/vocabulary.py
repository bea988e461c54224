"""The service desk's closed vocabularies: canonical codes (contract §4, §5) and their pt-BR labels."""

PROFILES: dict[str, str] = {
    "representante_legal": "Representante Legal",
    "financeiro": "Financeiro",
    "corporativo": "Corporativo",
    "tecnico_producao": "Técnico Produção",
}
# Only this profile cannot add or remove contacts (seed 000).
PROFILE_WITHOUT_CONTACT_RIGHTS = "tecnico_producao"
MAX_PROFILES = 3

STATUSES: dict[str, str] = {
    "registrado": "registrado",
    "em_atendimento": "em atendimento",
    "encaminhado": "encaminhado a outra equipe de suporte",
    "aguardando_usuario": "aguardando informações suas",
    "resolvido": "resolvido",
    "fechado": "fechado",
    "reaberto": "reaberto",
    "cancelado": "cancelado",
}
OPEN_STATUSES = ("registrado", "em_atendimento", "encaminhado", "aguardando_usuario", "reaberto")
WAITING_STATUS = "aguardando_usuario"

# The ANS clock of a ticket (contract §7 `sla_status`).
SLA_STATUSES: dict[str, str] = {
    "no_prazo": "no prazo",
    "em_risco": "em risco",
    "violado": "prazo vencido",
    "pausado": "pausado (aguardando o usuário)",
    "encerrado": "encerrado",
}
# What the scheduler does by itself (contract §9).
WAITING_REMINDER_BUSINESS_DAYS = 2
EVALUATION_REMINDER_DAYS = 5
AUTO_CLOSE_DAYS = 7
REOPEN_WINDOW_DAYS = 7
LEVELS = ("N1", "N2", "N3")

CATEGORIES: dict[str, str] = {
    "duvida": "Dúvida",
    "problema": "Problema",
    "solicitacao": "Solicitação",
}
IMPACTS: dict[str, str] = {
    "alto": "Alto — o serviço está parado para muitos usuários",
    "medio": "Médio — parte dos usuários ou funções afetada",
    "baixo": "Baixo — afeta pouca gente ou há alternativa",
}
PRIORITIES: dict[str, str] = {
    "critica": "crítica",
    "alta": "alta",
    "media": "média",
    "baixa": "baixa",
}

CALENDAR_24X7 = "24x7"
CALENDAR_BUSINESS = "comercial"
CALENDARS = (CALENDAR_24X7, CALENDAR_BUSINESS)

# How a ticket's history reads to its requester (follow-up form).
EVENT_LABELS: dict[str, str] = {
    "registered": "Acionamento registrado",
    "started": "Atendimento iniciado",
    "forwarded": "Encaminhado a outra equipe de suporte",
    "waiting_user": "Aguardando informações suas",
    "complemented": "Informações complementadas",
    "resolved": "Solução registrada",
    "evaluated": "Atendimento avaliado",
    "reopened": "Acionamento reaberto",
    "closed": "Acionamento fechado",
    "cancelled": "Acionamento cancelado",
    "sla_resumed": "Prazo de atendimento (ANS) retomado",
    "sla_breached": "Prazo de atendimento (ANS) vencido",
    "reminded": "Lembrete enviado por e-mail",
}

EVENT_KINDS = (
    "registered",
    "started",
    "forwarded",
    "waiting_user",
    "complemented",
    "resolved",
    "evaluated",
    "reopened",
    "closed",
    "cancelled",
    "sla_resumed",
    "sla_breached",
    "reminded",
)

# The human channels of the CSS (seeds: 24x7 phone and e-mail), said by the chat, the page and the e-mails.
CSS_PHONE = "0800 728 2323"
CSS_EMAIL = "css.serpro@serpro.gov.br"
CSS_HELP_SITE = "centraldeajuda.serpro.gov.br"

# An evaluation's score (quality control): a whole number in this range.
SCORE_MIN = 1
SCORE_MAX = 5
# Free texts (descriptions, complements, reasons, comments): the shortest that says something, the longest kept.
TEXT_MIN_CHARS = 5
TEXT_MAX_CHARS = 10_000

# What one chat message may carry, wherever it comes in (the page's proxy, Rasa's REST and socket.io channels).
MESSAGE_MAX_CHARS = 5000
TOKEN_MAX_CHARS = 4096
SENDER_MAX_CHARS = 128
