"""The Rasa server loads the custom NLU components: they must not pull the service desk's ORM in with them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_pattern_extractor_does_not_load_the_orm_models() -> None:
    probe = ("import sys, components.patterns as p; "
             "assert p.find_entities('acionamento SS-2026-000123')[0].value == 'SS-2026-000123'; "
             "print(sorted(m for m in ('backend.models', 'backend.numbering', 'sqlalchemy.orm') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
