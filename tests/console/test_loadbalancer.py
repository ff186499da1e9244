"""The load balancer's configuration as HAProxy reads it, and docker-compose.yml's shape for
`docker compose up --scale web=3`: the consoles found by DNS behind one published HAProxy.
(`docker compose config` itself needs the compose plugin, which CI does not have.)"""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from console import loadbalancer
from tests.support.services import require

COMPOSE = Path(__file__).resolve().parent.parent.parent / "docker-compose.yml"


def haproxy_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("haproxy"), "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    "servers, resolver",
    [(["127.0.0.1:8101", "127.0.0.1:8102"], ""), (["web:8000"], "127.0.0.11:53")],
    ids=["two consoles", "consoles found by docker's DNS"],
)
def test_haproxy_accepts_the_configuration(tmp_path, servers, resolver):
    require(shutil.which("haproxy") is not None, "HAProxy (Debian's haproxy package)")
    path = loadbalancer.write(tmp_path / "haproxy.cfg", "127.0.0.1:8000", servers, resolver=resolver)
    checked = haproxy_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_found_by_dns_the_consoles_may_be_scaled_up_to_twenty():
    configuration = loadbalancer.config("0.0.0.0:8000", ["web:8000"], resolver="127.0.0.11:53")
    assert "nameserver dns 127.0.0.11:53" in configuration
    assert "server-template console 1-20 web:8000 resolvers dns init-addr none" in configuration


def test_compose_puts_haproxy_in_front_of_web_containers_that_can_be_scaled():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    web, lb = services["web"], services["lb"]
    # Scaled containers cannot share a host port or a name.
    assert "ports" not in web and "container_name" not in web
    assert lb["ports"] == ["8000:8000"]
    command = lb["command"]
    assert command[:3] == ["python", "manage.py", "loadbalancer"]
    assert command[command.index("--servers") + 1] == "web:8000"
    assert command[command.index("--resolver") + 1] == "127.0.0.11:53"
    assert web["command"][-1] == "console.asgi:application" and "8000" in web["command"]
    # Bandwidth and browsers go through HAProxy, which the consoles count as one proxy.
    assert services["web"]["environment"]["PUBLIC_URL"].endswith("lb:8000}")
    assert services["web"]["environment"]["PROXY_COUNT"] == "${PROXY_COUNT:-1}"
    # One beat only: it schedules reconciliation and the sweep.
    assert "deploy" not in services["beat"] and "scale" not in services["beat"]


def test_compose_is_valid_where_docker_compose_is_installed(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    env = tmp_path / ".env"
    env.write_text(
        "\n".join(
            f"{name}=x"
            for name in (
                "SECRET_KEY", "POSTGRES_PASSWORD", "BANDWIDTH_ACCOUNT_ID", "BANDWIDTH_USERNAME",
                "BANDWIDTH_PASSWORD", "BANDWIDTH_APPLICATION_ID", "WEBHOOK_USERNAME", "WEBHOOK_PASSWORD",
            )
        )  # fmt: skip
    )
    checked = subprocess.run(
        [docker, "compose", "--env-file", str(env), "-f", str(COMPOSE), "config", "--quiet"], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr
