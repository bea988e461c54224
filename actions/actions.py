"""Custom actions for the Assistente Serpro.

Empty on purpose: greetings, help and goodbyes are plain responses in domain.yml.
Skills that read or write tickets and contacts will add thin adapters here that call
`backend` (never SQL or wording of their own). The module exists so that the action
server starts and serves its `/health` endpoint from day one.
"""
