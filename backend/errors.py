"""Errors the service desk raises; each carries a message in Portuguese fit to show a user."""


class DeskError(Exception):
    """Base of every refusal by a business rule. `str(error)` is the pt-BR message."""

    code = "erro"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DeskError):
    code = "dado_invalido"


class PermissionDenied(DeskError):
    code = "sem_permissao"


class NotFound(DeskError):
    code = "nao_encontrado"


class Conflict(DeskError):
    code = "conflito"


class InvalidTransition(DeskError):
    code = "transicao_invalida"


class DatabaseUnavailable(DeskError):
    """The database cannot be reached or its URL is unusable; the message names the URL without its password."""

    code = "banco_indisponivel"


class InvalidToken(DeskError):
    """A token that is missing, malformed, forged, expired or for a contact no longer active."""

    code = "token_invalido"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
