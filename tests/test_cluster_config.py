"""`make cluster`'s checks before anything starts (bot/cluster.py): PostgreSQL only, REDIS_URL parsed into what
deploy/endpoints.cluster.yml reads, replica counts, the topology check, and the nginx configuration rendered from the
shipped template. The running cluster itself is tests/test_cluster.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import cluster, launcher
from bot.launcher import LaunchError

PORTS = cluster.Ports(rasa=5005, actions=5055, web=8000, rasa_replicas=(5010, 5011, 5012), action_replicas=(5060,))


@pytest.mark.parametrize("url", ["sqlite:///var/assistente.db", "", "mysql://u:p@h/db"])
def test_anything_but_postgresql_is_refused_in_one_line(url: str) -> None:
    with pytest.raises(LaunchError) as refused:
        cluster.require_postgresql({"DATABASE_URL": url})
    assert "PostgreSQL" in str(refused.value) and "\n" not in str(refused.value)


def test_postgresql_is_accepted() -> None:
    url = "postgresql+psycopg2://assistente:senha@db:5432/assistente"
    assert cluster.require_postgresql({"DATABASE_URL": url}) == url


def test_redis_url_gives_host_port_db_and_password() -> None:
    assert cluster.parse_redis_url("redis://:s%40nha@redis.interno:6390/3") == cluster.RedisTarget(
        "redis.interno", 6390, 3, "s@nha")
    assert cluster.parse_redis_url("redis://127.0.0.1") == cluster.RedisTarget("127.0.0.1", 6379, 0, "")


@pytest.mark.parametrize("url", ["", "rediss://h:6379/0", "http://h:6379/0", "redis://h:porta/0", "redis://h:6379/x",
                                 "redis:///0"])
def test_a_missing_or_malformed_redis_url_is_refused_in_one_line(url: str) -> None:
    with pytest.raises(LaunchError) as refused:
        cluster.parse_redis_url(url)
    assert "REDIS_URL" in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("raw,count", [(None, 2), ("", 2), ("1", 1), ("4", 4)])
def test_replica_counts(raw: str | None, count: int) -> None:
    env = {} if raw is None else {"RASA_REPLICAS": raw}
    assert cluster.replica_count(env, "RASA_REPLICAS") == count


@pytest.mark.parametrize("raw", ["0", "-1", "dois", "33"])
def test_bad_replica_counts_are_refused(raw: str) -> None:
    with pytest.raises(LaunchError, match="ACTION_REPLICAS"):
        cluster.replica_count({"ACTION_REPLICAS": raw}, "ACTION_REPLICAS")


def test_the_cluster_endpoints_pass_the_topology_check_and_the_single_ones_do_not(tmp_path: Path) -> None:
    launcher.check_topology(cluster.CLUSTER_ENDPOINTS, {"SANIC_WORKERS": "2"}, rasa_processes=3)
    in_memory = tmp_path / "endpoints.yml"
    in_memory.write_text("tracker_store:\n  type: bot.conversation_store.PrivateTrackerStore\n", encoding="utf-8")
    with pytest.raises(LaunchError, match="lock"):
        launcher.check_topology(in_memory, {}, rasa_processes=2)


def test_the_nginx_configuration_is_rendered_from_the_shipped_template(tmp_path: Path) -> None:
    text = cluster.render_nginx(tmp_path, "127.0.0.1", PORTS).read_text(encoding="utf-8")
    assert "{{" not in text
    assert "listen 127.0.0.1:5005;" in text and "listen 127.0.0.1:5055;" in text
    for port in (5010, 5011, 5012):
        assert text.count(f"server 127.0.0.1:{port} ") == 2  # round-robin upstream and the sticky socket.io one
    assert text.count("server 127.0.0.1:5060 ") == 1
    assert f"pid {tmp_path}/nginx.pid;" in text and f"access_log {tmp_path}/access.log no_query;" in text
    assert "$request_uri" not in text and "$args" not in text and "$http_referer" not in text
    assert "client_max_body_size 1m;" in text and "proxy_http_version 1.1;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text
