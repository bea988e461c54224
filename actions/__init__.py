"""rasa-sdk adapters: read slots, call the backend's ServiceDesk, reply with domain.yml responses."""
