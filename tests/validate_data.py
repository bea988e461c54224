"""`rasa data validate --fail-on-warnings`, plus a check that no warning is left unexplained.

Rasa 3.6 prints, and does not count, two warnings that are false for this project; they are allowed only when proven:
- "The utterance 'utter_x' is not used in any story or rule." when utter_x is a form question (utter_ask_<slot> of a
  slot in domain.yml), is said by a custom action (its name appears in actions/*.py), or is utter_default (Rasa's
  own action_default_fallback says it), or is utter_faq, whose answers utter_faq/<key> action_responder_faq says;
- "duplicated intents ... across multiple domain files: faq", emitted by Rasa's own merge of the retrieval intent.
Every other warning fails the check.

Then the CSS channels: every 0800 number and @serpro.gov.br address stated in domain.yml's responses and on the chat
page (bot/static/index.html), which cannot import Python, must be backend/vocabulary.py's CSS_PHONE and CSS_EMAIL.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from backend.vocabulary import CSS_EMAIL, CSS_PHONE  # noqa: E402 — after the project root is importable

PHONE_NUMBER = re.compile(r"0800[\s.-]?\d{3}[\s.-]?\d{4}")
SERPRO_ADDRESS = re.compile(r"[\w.+-]+@serpro\.gov\.br")
CHANNEL_FILES = ("domain.yml", "bot/static/index.html")
WARNING = re.compile(r"UserWarning: (.*?)(?:\x1b\[0m)?$")
UNUSED_UTTERANCE = re.compile(r"The utterance '(utter_[\w/]+)' is not used in any story or rule\.")
RETRIEVAL_MERGE = "The following duplicated intents have been found across multiple domain files: faq"


def explained(warning: str, slots: set[str], action_code: str) -> bool:
    if warning.strip() == RETRIEVAL_MERGE:
        return True
    match = UNUSED_UTTERANCE.fullmatch(warning.strip())
    if not match:
        return False
    name = match.group(1)
    if name == "utter_default":  # said by Rasa's built-in action_default_fallback
        return True
    if name == "utter_faq":  # the retrieval answers are said by actions.faq.ActionResponderFaq
        return '"utter_faq/"' in action_code
    if name.startswith("utter_ask_"):
        return name.removeprefix("utter_ask_") in slots
    if name.startswith("utter_exemplo_"):  # said by actions.common.refuse_answer() after two misses on that slot
        return name.removeprefix("utter_exemplo_") in slots and 'f"utter_exemplo_{slot}"' in action_code
    return f'"{name}"' in action_code


def stale_channels(text: str) -> list[str]:
    """The phone numbers and Serpro addresses in `text` that are not the CSS's own (CSS_PHONE, CSS_EMAIL)."""
    phone_digits = re.sub(r"\D", "", CSS_PHONE)
    phones = [p for p in PHONE_NUMBER.findall(text) if p != CSS_PHONE and p != phone_digits]
    addresses = [a for a in SERPRO_ADDRESS.findall(text) if a != CSS_EMAIL]
    return phones + addresses


def channels_ok() -> bool:
    stale = {name: found for name in CHANNEL_FILES if (found := stale_channels((ROOT / name).read_text("utf-8")))}
    for name, found in stale.items():
        print(f"  {name}: {', '.join(found)} (a CSS é {CSS_PHONE} / {CSS_EMAIL}, backend/vocabulary.py)")
    print(f"canais da CSS: {len(CHANNEL_FILES)} arquivo(s), {sum(map(len, stale.values()))} divergente(s)")
    return not stale


def main() -> int:
    rasa = Path(sys.executable).parent / "rasa"
    done = subprocess.run([str(rasa), "data", "validate", "--fail-on-warnings"], cwd=ROOT,
                          capture_output=True, text=True)
    slots = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["slots"])
    action_code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
    warnings = [m.group(1) for line in (done.stdout + done.stderr).splitlines() if (m := WARNING.search(line))]
    rasa_own = [w for w in warnings if "site-packages" not in w and "deprecat" not in w.lower()]
    unexplained = [w for w in rasa_own if not explained(w, slots, action_code)]
    print(f"rasa data validate: exit {done.returncode}, {len(rasa_own)} warning(s), {len(unexplained)} unexplained")
    for warning in unexplained:
        print(f"  {warning}")
    channels = channels_ok()
    return 1 if done.returncode or unexplained or not channels else 0


if __name__ == "__main__":
    sys.exit(main())
