"""The service catalogue: finding a service by what a user or clerk typed."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput
from backend.models import Service


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: how names are compared."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def list_services(session: Session) -> list[Service]:
    return list(session.scalars(select(Service).where(Service.active.is_(True)).order_by(Service.name)))


def find_service(session: Session, text: str | None) -> Service:
    """An active service by code or name (case and accents ignored), or the one service named inside a
    longer text ("é no datavalid")."""
    wanted = fold(text or "")
    services = list_services(session)
    for service in services:
        if wanted and wanted in (fold(service.code), fold(service.name)):
            return service
    padded = f" {wanted} "
    mentioned = [s for s in services if wanted and (f" {fold(s.name)} " in padded or f" {fold(s.code)} " in padded)]
    if len(mentioned) == 1:
        return mentioned[0]
    names = ", ".join(s.name for s in services)
    raise InvalidInput(f"Não encontrei o serviço{_quoted(text)}. Serviços disponíveis: {names}.")


# What may be repeated back in the refusal: something that looks like a service name, never a pasted document,
# markup or a CPF/phone typed in the wrong place.
_ECHOABLE = re.compile(r"[^\W\d_][\w .&/-]{0,39}")


def _quoted(text: str | None) -> str:
    typed = (text or "").strip()
    if _ECHOABLE.fullmatch(typed) and not re.search(r"\d{3}", typed):
        return f' "{typed}"'
    return ""
