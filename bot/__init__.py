"""Running the assistant for people: the launcher behind `make run` and the CSS web page."""
