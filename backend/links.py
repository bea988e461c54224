"""Signed links sent in e-mails: each opens only its own ticket, for one purpose, until it expires."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from backend.identity import PURPOSE_ANSWER, PURPOSE_EVALUATE, PURPOSE_TRACK, sign_link


@dataclass(frozen=True)
class Links:
    secret: str
    base_url: str

    def follow(self, number: str) -> str:
        """The ticket follow-up form (state, level, deadline, history)."""
        return self._url("acionamentos", PURPOSE_TRACK, number)

    def evaluate(self, number: str) -> str:
        """The quality-control form (score, comment, agree or reopen)."""
        return self._url("avaliacao", PURPOSE_EVALUATE, number)

    def answer(self, number: str) -> str:
        """The form to answer the question support asked (ticket waiting for the user)."""
        return self._url("resposta", PURPOSE_ANSWER, number)

    def _url(self, path: str, purpose: str, number: str) -> str:
        token = sign_link(self.secret, purpose, number)
        return f"{self.base_url}/{path}/{number}?t={quote(token)}"
