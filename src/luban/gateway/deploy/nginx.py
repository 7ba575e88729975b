"""`luban deploy nginx`: an nginx config that balances gateway replicas.

Design choices:
- One upstream pool with keep-alive connections (`proxy_http_version 1.1`, an empty `Connection` header)
  so that nginx does not open a TCP connection per call; a replica that fails is skipped for
  `fail_timeout` seconds (passive health checks: open-source nginx has no active ones).
- Streams: `proxy_buffering off` under /v1/, so that each SSE event leaves nginx when the gateway sends it;
  `proxy_read_timeout` is long (a generation may be silent for minutes before its first token).
- Retries (`proxy_next_upstream`): a completion is retried on another replica only when its replica
  failed before answering (refused or reset connection, 503 while it starts or stops). nginx never
  replays a call whose answer has begun to reach the client. Management routes under /admin/ are never
  replayed after they were sent (creating a key twice is not harmless).
- `standalone` renders a whole nginx.conf (the scale-out test runs it as is); otherwise a conf.d file.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, field_validator

TEMPLATE = "nginx.conf.jinja"


class NginxConfig(BaseModel):
    """What `luban deploy nginx` renders (each field is a command-line option)."""

    model_config = ConfigDict(extra="forbid")
    servers: list[str] = Field(min_length=1)  # gateway replicas, HOST:PORT
    listen: str = "80"  # port, or ADDRESS:PORT
    server_name: str = "_"
    upstream_name: str = "luban_gateway"
    keepalive: int = Field(64, ge=1)
    max_fails: int = Field(1, ge=0)
    fail_timeout: float = Field(5, gt=0)
    connect_timeout: float = Field(2, gt=0)
    read_timeout: float = Field(600, gt=0)
    send_timeout: float = Field(600, gt=0)
    tries: int = Field(2, ge=1)  # replicas one call may be tried on
    next_upstream_timeout: float = Field(10, ge=0)
    retry_post: bool = True  # retry completions whose replica failed before answering (see the docstring)
    max_body_mb: int = Field(16, ge=1)
    admin_allow: list[str] = Field(default_factory=list)  # networks allowed to reach /admin/ (empty: all)
    tls_cert: str | None = None
    tls_key: str | None = None
    standalone: bool = True
    worker_processes: str = "auto"
    worker_connections: int = Field(4096, ge=64)
    run_dir: str | None = None  # pid, logs and temp files here (running nginx as a user, tests)

    @field_validator("servers")
    @classmethod
    def _host_port(cls, servers: list[str]) -> list[str]:
        for s in servers:
            host, _, port = s.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"'{s}' is not HOST:PORT")
        return servers


def _duration(seconds: float) -> str:
    """nginx time units take integers: 2.5 -> 2500ms, 600 -> 600s."""
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def render_nginx(cfg: NginxConfig) -> str:
    """The nginx configuration text for `cfg`."""
    if bool(cfg.tls_cert) != bool(cfg.tls_key):
        from luban.core.errors import UsageError

        raise UsageError("TLS needs both a certificate and its key", "pass --tls-cert and --tls-key together")
    env = Environment(loader=FileSystemLoader(Path(__file__).parent), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["duration"] = _duration
    run = cfg.run_dir
    values = cfg.model_dump()
    values.update(pid_path=f"{run}/nginx.pid" if run else "/run/nginx.pid",
                  error_log=f"{run}/error.log" if run else "/var/log/nginx/error.log",
                  access_log=f"{run}/access.log" if run else "/var/log/nginx/access.log")
    return env.get_template(TEMPLATE).render(**values)
