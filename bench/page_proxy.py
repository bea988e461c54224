"""What the page's proxy adds to each chat message: `POST /api/mensagem` through bot.web vs straight to "Rasa".

usage: .venv/bin/python bench/page_proxy.py [--messages 1000] [--concurrency 8] [--page-root DIR]

Not a test (not part of `make test`): it prints figures. So that only the proxy is measured, "Rasa" is a stand-in
that answers at once with a typical reply (a greeting with three buttons) on `/webhooks/rest/webhook`; the page
server is the real one, started as production starts it (`python -m bot.web --quiet`, its own process, over a
temporary SQLite database). The same messages (signed in: a real identity token in the body) are sent first
straight to the stand-in, then through the page, one at a time over fresh connections like the browser's fetch,
and the latency percentiles are compared; then the same again from `--concurrency` clients at once.
The target (issue 14) is under 10 ms added per message. `--page-root` runs the page server of another checkout
(e.g. `git worktree add /tmp/antes <commit>`) under the same conditions, to compare two versions on a busy machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_integration_http import free_port  # noqa: E402

SECRET = "bench-page-proxy-secret-with-more-than-32-bytes"
REPLY = [{"recipient_id": "x", "text": "Olá! Eu sou o Assistente Serpro. Como posso ajudar?",
          "buttons": [{"title": t, "payload": f"/{p}"} for t, p in (
              ("Abrir acionamento", "abrir_acionamento"), ("Consultar acionamento", "consultar_acionamento"),
              ("Falar com atendente", "falar_com_atendente"))]}]
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def start_stand_in(port: int) -> None:
    """Rasa's REST webhook, answering at once (aiohttp, in a thread of this process)."""
    import asyncio

    from aiohttp import web

    body = json.dumps(REPLY).encode("utf-8")

    async def webhook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    async def serve() -> None:
        application = web.Application()
        application.router.add_post("/webhooks/rest/webhook", webhook)
        runner = web.AppRunner(application, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    threading.Thread(target=lambda: asyncio.run(serve()), daemon=True).start()


def post(url: str, body: bytes) -> float:
    """Milliseconds for one POST and its whole answer."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with _DIRECT.open(request, timeout=30) as response:
        response.read()
        assert response.status == 200
    return (time.perf_counter() - started) * 1000


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with _DIRECT.open(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"não respondeu em {seconds:.0f} s: {url}")


def run(url: str, bodies: list[bytes], concurrency: int) -> list[float]:
    if concurrency == 1:
        return [post(url, body) for body in bodies]
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(lambda body: post(url, body), bodies))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--page-root", type=Path, default=ROOT, help="checkout whose bot.web is measured")
    args = parser.parse_args()

    rasa_port, page_port = free_port(), free_port()
    start_stand_in(rasa_port)
    with tempfile.TemporaryDirectory(prefix="bench-page-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}", "ASSISTENTE_SECRET": SECRET}
        env.pop("SMTP_HOST", None)
        for step in (["db", "upgrade"], ["seed"]):
            subprocess.run([sys.executable, "-m", "backend", *step], cwd=ROOT, env=env, check=True,
                           capture_output=True)
        token = subprocess.run([sys.executable, "-m", "backend", "token", "--cpf", "234.567.891-73"], cwd=ROOT,
                               env=env, check=True, capture_output=True, text=True).stdout.strip()
        page = subprocess.Popen([sys.executable, "-m", "bot.web", "--port", str(page_port), "--rasa-port",
                                 str(rasa_port), "--quiet"], cwd=args.page_root, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(f"http://127.0.0.1:{page_port}/healthz")
            direct_url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
            page_url = f"http://127.0.0.1:{page_port}/api/mensagem"
            sender = "web-" + "0123456789abcdef" * 2
            rasa_bodies = [json.dumps({"sender": sender, "message": f"mensagem {n}", "metadata": {"token": token}})
                           .encode("utf-8") for n in range(args.messages)]
            page_bodies = [json.dumps({"sender": sender, "message": f"mensagem {n}", "token": token})
                           .encode("utf-8") for n in range(args.messages)]
            run(direct_url, rasa_bodies[:50], 1)  # warm up both paths
            run(page_url, page_bodies[:50], 1)
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"bench/page_proxy.py — {args.messages} mensagens, página de {args.page_root}, Python "
                  f"{platform.python_version()}, {os.cpu_count()} CPUs, carga {load} (latência por mensagem, ms)\n")
            print(f"{'clientes':>8} | {'caminho':<22} | {'mediana':>7} | {'p95':>7} | {'p99':>7} | {'msg/s':>7}")
            print("-" * 74)
            for concurrency in (1, args.concurrency):
                figures = {}
                for name, url, bodies in (("direto ao Rasa", direct_url, rasa_bodies),
                                          ("pela página (proxy)", page_url, page_bodies)):
                    started = time.perf_counter()
                    times = run(url, bodies, concurrency)
                    rate = len(times) / (time.perf_counter() - started)
                    figures[name] = times
                    print(f"{concurrency:>8} | {name:<22} | {statistics.median(times):7.2f} | "
                          f"{percentile(times, 0.95):7.2f} | {percentile(times, 0.99):7.2f} | {rate:7.0f}")
                direct, proxied = figures["direto ao Rasa"], figures["pela página (proxy)"]
                print(f"{concurrency:>8} | {'acréscimo do proxy':<22} | "
                      f"{statistics.median(proxied) - statistics.median(direct):7.2f} | "
                      f"{percentile(proxied, 0.95) - percentile(direct, 0.95):7.2f} | "
                      f"{percentile(proxied, 0.99) - percentile(direct, 0.99):7.2f} |")
                print("-" * 74)
        finally:
            page.terminate()
            page.wait(timeout=30)
    print("Meta (issue 14): o proxy acrescenta menos de 10 ms por mensagem (mediana, um cliente).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
