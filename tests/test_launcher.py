"""The launcher's supervision (bot/launcher.py) with real short-lived processes and a hand-driven clock."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bot import launcher
from bot.launcher import FIRST_BACKOFF, MAX_BACKOFF, STABLE_AFTER, Service, supervise


def service(code: str) -> Service:
    return Service(label="o teste", label_en="the test", command=[sys.executable, "-c", code], env={},
                   ready=lambda: True, url="")


def dead(service_: Service) -> Service:
    launcher.start(service_)
    service_.process.wait(timeout=30)
    return service_


def test_a_dead_child_is_restarted_after_a_growing_back_off(capsys: pytest.CaptureFixture[str]) -> None:
    crashing = dead(service("raise SystemExit(3)"))
    now = crashing.started_at + 1
    supervise([crashing], now)
    assert crashing.restart_at == now + FIRST_BACKOFF
    assert "o teste terminou (código 3); reiniciando em 1 s" in capsys.readouterr().err
    supervise([crashing], now + 0.5)
    assert crashing.restart_at == now + FIRST_BACKOFF  # not yet
    supervise([crashing], now + FIRST_BACKOFF)
    assert crashing.restart_at is None and crashing.process is not None
    crashing.process.wait(timeout=30)
    backoffs = []
    for _ in range(8):
        supervise([crashing], crashing.started_at + 1)
        backoffs.append(crashing.restart_at - (crashing.started_at + 1))
        supervise([crashing], crashing.restart_at)
        crashing.process.wait(timeout=30)
    assert backoffs[:5] == [2, 4, 8, 16, 30] and max(backoffs) == MAX_BACKOFF


def test_a_child_that_ran_a_while_starts_again_from_the_first_back_off() -> None:
    crashing = dead(service("raise SystemExit(1)"))
    crashing.backoff = MAX_BACKOFF
    supervise([crashing], crashing.started_at + STABLE_AFTER + 1)
    assert crashing.restart_at == crashing.started_at + STABLE_AFTER + 1 + FIRST_BACKOFF


def test_one_dead_child_leaves_the_others_running(capsys: pytest.CaptureFixture[str]) -> None:
    crashing = dead(service("raise SystemExit(1)"))
    healthy = service("import time; time.sleep(60)")
    launcher.start(healthy)
    try:
        supervise([crashing, healthy], time.monotonic())
        assert healthy.alive()
        supervise([crashing, healthy], crashing.restart_at)
        crashing.process.wait(timeout=30)
        crashing.back = False
        restarted = service("import time; time.sleep(60)")
        restarted.back = False
        launcher.start(restarted)
        supervise([restarted], time.monotonic())
        assert restarted.back and "o teste voltou a responder" in capsys.readouterr().out
    finally:
        launcher.stop_all([healthy, crashing] + ([restarted] if "restarted" in locals() else []), timeout=5)
    assert not healthy.alive()


def test_the_rasa_command_closes_the_api_and_limits_cors() -> None:
    from pathlib import Path

    command = launcher.rasa_server_command("python", Path("m.tar.gz"), "127.0.0.1", 5005,
                                           {"RASA_API_TOKEN": "t0k", "CORS_ORIGINS": ""})
    assert command[command.index("--auth-token") + 1] == "t0k" and "--cors" not in command
    command = launcher.rasa_server_command("python", Path("m.tar.gz"), "127.0.0.1", 5005,
                                           {"RASA_API_TOKEN": "t0k", "CORS_ORIGINS": "https://a.gov.br, https://b.gov.br"})
    assert command[command.index("--cors") + 1:] == ["https://a.gov.br", "https://b.gov.br"]
    with pytest.raises(launcher.LaunchError, match="RASA_API_TOKEN"):
        launcher.rasa_server_command("python", Path("m.tar.gz"), "127.0.0.1", 5005, {})


def test_a_wildcard_origin_is_refused() -> None:
    from pathlib import Path

    with pytest.raises(launcher.LaunchError, match="CORS_ORIGINS"):
        launcher.rasa_server_command("python", Path("m.tar.gz"), "127.0.0.1", 5005,
                                     {"RASA_API_TOKEN": "t0k", "CORS_ORIGINS": "*"})


def test_several_rasa_workers_without_a_shared_lock_store_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    shipped = Path(__file__).resolve().parent.parent / "endpoints.yml"
    launcher.check_topology(shipped, {})  # one process: fine
    with pytest.raises(launcher.LaunchError, match="SANIC_WORKERS=1 ou `make cluster`"):
        launcher.check_topology(shipped, {"SANIC_WORKERS": "4"})  # SQL trackers but no Redis lock store
    in_memory = tmp_path / "endpoints.yml"
    in_memory.write_text("action_endpoint:\n  url: http://x\n", encoding="utf-8")
    with pytest.raises(launcher.LaunchError, match="2 processos Rasa"):
        launcher.check_topology(in_memory, {}, rasa_processes=2)
    shared = tmp_path / "shared.yml"
    shared.write_text("tracker_store:\n  type: bot.conversation_store.PrivateTrackerStore\n"
                      "lock_store:\n  type: redis\n  url: localhost\n", encoding="utf-8")
    launcher.check_topology(shared, {"SANIC_WORKERS": "2"}, rasa_processes=2)
    with pytest.raises(launcher.LaunchError, match="SANIC_WORKERS inválido"):
        launcher.check_topology(shipped, {"SANIC_WORKERS": "muitos"})
