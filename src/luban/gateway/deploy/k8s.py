"""`luban deploy k8s`: Kubernetes manifests for the scale-out shape.

Rendered: a Namespace; the gateway (ConfigMap with gateway.yaml, Deployment, Service, HorizontalPodAutoscaler,
PodDisruptionBudget); a model engine (a `luban engine` Deployment on a model volume, or vLLM's OpenAI server
on GPUs) with its Service; Redis (Deployment + Service); PostgreSQL (StatefulSet with a volume claim +
Service); Secrets for the database password and the providers' API keys.

Design choices:
- Manifests are built as plain dicts and dumped as YAML: no text templating of YAML, so indentation and
  quoting cannot go wrong; the test validates every document against the Kubernetes schemas.
- gateway.yaml goes into a ConfigMap with `${POSTGRES_PASSWORD}` where the password belongs: the gateway
  expands it from its environment (a Secret), so the ConfigMap holds no secret. Provider keys are env
  variables from a Secret named in the rendered files; values are taken from this shell's environment
  when set, else left empty for `kubectl create secret` / your secret manager.
- Probes on /health: readiness gates traffic (the gateway answers 503 until it is ready); liveness has a
  long grace so a slow start is not killed. The gateway stops accepting on SIGTERM and finishes what is
  in flight (terminationGracePeriodSeconds covers a long generation).
- The gateway's HPA scales on CPU: its work is CPU-bound (JSON, TLS, hashing), the engine's is not.
"""

from __future__ import annotations

import os
import secrets
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from luban import __version__

Doc = dict[str, Any]


class K8sConfig(BaseModel):
    """What `luban deploy k8s` renders (each field is a command-line option)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field("luban", pattern=r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")
    namespace: str = Field("luban", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    image: str = f"luban:{__version__}"  # the image built from the repository's Dockerfile
    port: int = Field(8080, ge=1, le=65535)
    replicas: int = Field(2, ge=1)
    max_replicas: int = Field(10, ge=1)
    target_cpu: int = Field(70, ge=10, le=100)  # HPA target, % of the CPU request
    cpu: str = "1"  # gateway CPU request (and limit: 2x)
    memory: str = "512Mi"
    engine: Literal["luban", "vllm", "none"] = "luban"
    engine_image: str | None = None  # default: `image` for luban, vllm/vllm-openai:latest for vllm
    model: str = "/models/model"  # luban: a model folder on the volume; vllm: a path or a model id
    model_name: str = "model"  # the name clients ask for
    model_pvc: str | None = None  # a PersistentVolumeClaim holding the models (default: an emptyDir)
    gpus: int = Field(0, ge=0)
    engine_replicas: int = Field(1, ge=1)
    redis_url: str | None = None  # an existing Redis; default: deploy one
    postgres_url: str | None = None  # an existing PostgreSQL (SQLAlchemy URL); default: deploy one
    postgres_storage: str = "10Gi"
    provider_keys: list[str] = Field(default_factory=list)  # env variables to put in the keys Secret
    gateway_yaml: dict[str, Any] | None = None  # your gateway.yaml; default: one model on the engine


def _meta(cfg: K8sConfig, name: str, component: str) -> Doc:
    return {"name": name, "namespace": cfg.namespace,
            "labels": {"app.kubernetes.io/name": cfg.name, "app.kubernetes.io/component": component,
                       "app.kubernetes.io/managed-by": "luban"}}


def _selector(cfg: K8sConfig, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": cfg.name, "app.kubernetes.io/component": component}


def _probe(path: str, port: int, delay: int, failures: int) -> Doc:
    return {"httpGet": {"path": path, "port": port}, "initialDelaySeconds": delay, "periodSeconds": 10,
            "timeoutSeconds": 5, "failureThreshold": failures}


def _service(cfg: K8sConfig, name: str, component: str, port: int) -> Doc:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(cfg, name, component),
            "spec": {"selector": _selector(cfg, component),
                     "ports": [{"name": "http" if component != "redis" and component != "postgres" else component,
                                "port": port, "targetPort": port}]}}


def _deployment(cfg: K8sConfig, name: str, component: str, replicas: int, pod: Doc) -> Doc:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(cfg, name, component),
            "spec": {"replicas": replicas, "selector": {"matchLabels": _selector(cfg, component)},
                     "template": {"metadata": {"labels": _selector(cfg, component)}, "spec": pod}}}


def gateway_yaml(cfg: K8sConfig, db_url: str, redis_url: str) -> dict[str, Any]:
    """The gateway.yaml of the ConfigMap: the user's (database and Redis filled in) or a default one."""
    engine_url = f"http://{cfg.name}-engine:8000/v1"
    base: dict[str, Any] = dict(cfg.gateway_yaml or {
        "upstreams": {"engine": {"url": engine_url}},
        "models": {cfg.model_name: {"upstreams": ["engine"]}},
        "routing": {"strategy": "least-busy", "retries": 2},
        "hooks": [{"use": "usage"}, {"use": "prompts"}],
    })
    base["host"], base["port"] = "0.0.0.0", cfg.port
    base["keys"] = {**base.get("keys", {}), "url": db_url}
    base["redis"] = {**base.get("redis", {}), "url": redis_url}
    base["cache"] = {**base.get("cache", {}), "backend": "redis"}
    return base


def render_k8s(cfg: K8sConfig) -> list[Doc]:
    """Every manifest, in the order `kubectl apply -f` should create them."""
    n = cfg.name
    db_url = cfg.postgres_url or f"postgresql+psycopg://luban:${{POSTGRES_PASSWORD}}@{n}-postgres:5432/luban"
    redis_url = cfg.redis_url or f"redis://{n}-redis:6379/0"
    docs: list[Doc] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": cfg.namespace}}]
    docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": _meta(cfg, f"{n}-db", "postgres"),
                 "type": "Opaque", "stringData": {"POSTGRES_PASSWORD": secrets.token_urlsafe(24)}})
    docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": _meta(cfg, f"{n}-provider-keys", "gateway"),
                 "type": "Opaque", "stringData": {k: os.environ.get(k, "") for k in cfg.provider_keys}})
    gw_yaml = yaml.safe_dump(gateway_yaml(cfg, db_url, redis_url), sort_keys=False)
    docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(cfg, f"{n}-gateway", "gateway"),
                 "data": {"gateway.yaml": gw_yaml}})
    docs += _gateway(cfg)
    if cfg.engine != "none":
        docs += _engine(cfg)
    if cfg.redis_url is None:
        docs += _redis(cfg)
    if cfg.postgres_url is None:
        docs += _postgres(cfg)
    return docs


def _gateway(cfg: K8sConfig) -> list[Doc]:
    n, port = cfg.name, cfg.port
    env: list[Doc] = [{"name": "POSTGRES_PASSWORD",
                       "valueFrom": {"secretKeyRef": {"name": f"{n}-db", "key": "POSTGRES_PASSWORD"}}},
                      {"name": "LUBAN_WORKSPACE", "value": "/data/ws"}]
    env += [{"name": k, "valueFrom": {"secretKeyRef": {"name": f"{n}-provider-keys", "key": k}}}
            for k in cfg.provider_keys]
    container = {
        "name": "gateway", "image": cfg.image, "imagePullPolicy": "IfNotPresent",
        "command": ["luban", "gateway", "--config", "/etc/luban/gateway.yaml", "--host", "0.0.0.0",
                    "--port", str(port)],
        "ports": [{"name": "http", "containerPort": port}],
        "env": env,
        "resources": {"requests": {"cpu": cfg.cpu, "memory": cfg.memory},
                      "limits": {"memory": cfg.memory}},
        "readinessProbe": _probe("/health", port, 2, 3),
        "livenessProbe": _probe("/health", port, 30, 6),
        "volumeMounts": [{"name": "config", "mountPath": "/etc/luban", "readOnly": True},
                         {"name": "workspace", "mountPath": "/data/ws"}],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False},
    }
    pod = {"containers": [container], "terminationGracePeriodSeconds": 120,
           "volumes": [{"name": "config", "configMap": {"name": f"{n}-gateway"}},
                       {"name": "workspace", "emptyDir": {}}]}
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": _meta(cfg, f"{n}-gateway", "gateway"),
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{n}-gateway"},
                    "minReplicas": cfg.replicas, "maxReplicas": max(cfg.replicas, cfg.max_replicas),
                    "metrics": [{"type": "Resource", "resource": {
                        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": cfg.target_cpu}}}]}}
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": _meta(cfg, f"{n}-gateway", "gateway"),
           "spec": {"minAvailable": 1, "selector": {"matchLabels": _selector(cfg, "gateway")}}}
    return [_deployment(cfg, f"{n}-gateway", "gateway", cfg.replicas, pod),
            _service(cfg, f"{n}-gateway", "gateway", port), hpa, pdb]


def _engine(cfg: K8sConfig) -> list[Doc]:
    n = cfg.name
    resources: Doc = {"requests": {"cpu": "2", "memory": "8Gi"}}
    if cfg.gpus:
        resources["limits"] = {"nvidia.com/gpu": cfg.gpus}
    if cfg.engine == "vllm":
        container: Doc = {
            "name": "engine", "image": cfg.engine_image or "vllm/vllm-openai:latest",
            "args": ["--model", cfg.model, "--served-model-name", cfg.model_name, "--port", "8000",
                     *(["--tensor-parallel-size", str(cfg.gpus)] if cfg.gpus > 1 else [])],
        }
        delay = 120
    else:
        container = {
            "name": "engine", "image": cfg.engine_image or cfg.image,
            "command": ["luban", "engine", cfg.model, "--host", "0.0.0.0", "--port", "8000",
                        "--name", cfg.model_name],
        }
        delay = 60
    container.update({
        "ports": [{"name": "http", "containerPort": 8000}], "resources": resources,
        "readinessProbe": _probe("/health", 8000, 10, 3),
        "livenessProbe": _probe("/health", 8000, delay, 10),
        "volumeMounts": [{"name": "models", "mountPath": "/models"}],
    })
    models = ({"persistentVolumeClaim": {"claimName": cfg.model_pvc, "readOnly": True}} if cfg.model_pvc
              else {"emptyDir": {}})
    pod = {"containers": [container], "volumes": [{"name": "models", **models}],
           "terminationGracePeriodSeconds": 120}
    return [_deployment(cfg, f"{n}-engine", "engine", cfg.engine_replicas, pod),
            _service(cfg, f"{n}-engine", "engine", 8000)]


def _redis(cfg: K8sConfig) -> list[Doc]:
    n = cfg.name
    container = {"name": "redis", "image": "redis:7-alpine", "args": ["--save", "", "--appendonly", "no"],
                 "ports": [{"name": "redis", "containerPort": 6379}],
                 "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
                 "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 5},
                 "livenessProbe": {"tcpSocket": {"port": 6379}, "initialDelaySeconds": 10, "periodSeconds": 10}}
    return [_deployment(cfg, f"{n}-redis", "redis", 1, {"containers": [container]}),
            _service(cfg, f"{n}-redis", "redis", 6379)]


def _postgres(cfg: K8sConfig) -> list[Doc]:
    n = cfg.name
    container = {
        "name": "postgres", "image": "postgres:16-alpine",
        "env": [{"name": "POSTGRES_USER", "value": "luban"}, {"name": "POSTGRES_DB", "value": "luban"},
                {"name": "POSTGRES_PASSWORD",
                 "valueFrom": {"secretKeyRef": {"name": f"{n}-db", "key": "POSTGRES_PASSWORD"}}},
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
        "ports": [{"name": "postgres", "containerPort": 5432}],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
        "readinessProbe": {"exec": {"command": ["pg_isready", "-U", "luban"]}, "periodSeconds": 5},
        "livenessProbe": {"exec": {"command": ["pg_isready", "-U", "luban"]}, "initialDelaySeconds": 30,
                          "periodSeconds": 10},
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
    }
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta(cfg, f"{n}-postgres", "postgres"),
           "spec": {"serviceName": f"{n}-postgres", "replicas": 1,
                    "selector": {"matchLabels": _selector(cfg, "postgres")},
                    "template": {"metadata": {"labels": _selector(cfg, "postgres")},
                                 "spec": {"containers": [container]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": cfg.postgres_storage}}}}]}}
    return [sts, _service(cfg, f"{n}-postgres", "postgres", 5432)]


def dump(docs: list[Doc]) -> str:
    """Multi-document YAML, `kubectl apply -f` ready."""
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)
