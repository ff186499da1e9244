"""The load balancer in front of several console processes: HAProxy (Debian's haproxy
package, or the haproxy image in docker-compose.yml), configured from here.

Any process can serve any request: sessions, actions and the mirror are in the database,
and every process's browsers get every change (console/live.py). So HAProxy spreads
requests round-robin, with no stickiness, and keeps websockets open as long as their
browsers do (`timeout tunnel`); a process that stops answering its health check (GET
/healthz, HTTP only) leaves the rotation within seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# Websockets idle this long (no frame either way) are closed; daphne pings every 20 s, so
# an open page never comes near it.
TUNNEL_TIMEOUT = "1h"


def config(bind: str, servers: list[str], *, resolver: str = "") -> str:
    """HAProxy's configuration: listen on `bind` (host:port) and spread over `servers`
    (host:port each). With `resolver` (docker's DNS, 127.0.0.11:53), `servers` holds one
    name whose addresses are read from DNS, so that `docker compose up --scale web=3` is
    picked up without a new configuration."""
    lines = [
        "global",
        "    log stdout format raw local0 warning",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option forwardfor",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        f"    timeout tunnel {TUNNEL_TIMEOUT}",
        "    timeout http-request 10s",
    ]
    if resolver:
        lines += ["resolvers dns", f"    nameserver dns {resolver}", "    hold valid 5s"]
    lines += [
        "frontend switchboard",
        f"    bind {bind}",
        "    default_backend consoles",
        "backend consoles",
        "    balance roundrobin",
        "    option httpchk",
        # A Host Django allows (ALLOWED_HOSTS has localhost in every profile).
        "    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost",
        "    http-check expect status 200",
        "    default-server check inter 2s fall 2 rise 1",
    ]
    if resolver:
        host, _, port = servers[0].rpartition(":")
        lines.append(f"    server-template console 1-20 {host}:{port} resolvers dns init-addr none")
    else:
        lines += [f"    server console{number} {server}" for number, server in enumerate(servers, 1)]
    return "\n".join(lines) + "\n"


def write(path: Path, bind: str, servers: list[str], *, resolver: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config(bind, servers, resolver=resolver))
    return path


def command(config_path: Path) -> list[str]:
    """HAProxy in the foreground, master-worker, with this configuration."""
    executable = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return [executable, "-W", "-db", "-f", str(config_path)]
