"""Custom actions of the Assistente Serpro (rasa-sdk), loaded by `rasa run actions --actions actions`."""
