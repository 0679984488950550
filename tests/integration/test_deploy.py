"""deploy/ checked without a cluster: every overlay builds and validates against the Kubernetes
schemas, has what the platform team relies on, and the Dockerfile passes hadolint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from omni.platform import metrics

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = ROOT / "deploy" / "kustomize"
BIN = Path(sys.executable).parent
SERVICES = ("stock", "orders", "pickup", "returns")
OVERLAYS = ("dev", "production")


def _run(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)
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
        assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [name]


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
                if kind == "Deployment":  # our services: native gRPC probes on health
                    assert container["readinessProbe"]["grpc"]["port"] == 50051, where
                    assert container["livenessProbe"]["grpc"]["service"] == "omni.liveness"


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
    assert len(_named(docs, "Cluster")) == len(SERVICES)  # a PostgreSQL per service
    for name, deployment in _named(docs, "Deployment").items():
        for env in deployment["spec"]["template"]["spec"]["containers"][0].get("env", []):
            if any(word in env["name"] for word in ("TOKEN", "KEY", "DATABASE_URL")):
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


def test_in_production_each_database_is_reachable_only_by_its_own_service() -> None:
    docs = [doc for doc in yaml.safe_load_all(_build("production")) if doc]
    for svc in SERVICES:
        cluster = _named(docs, "Cluster")[f"omni-{svc}-db"]
        # CloudNativePG labels each instance with its cluster, and adds the inherited labels.
        instance = {
            "cnpg.io/cluster": f"omni-{svc}-db",
            **cluster["spec"]["inheritedMetadata"]["labels"],
        }
        assert _allowed_in(docs, instance, 5432) == {
            f"Deployment omni-{svc}",
            f"Job omni-migrate-{svc}",
        }


def test_production_alerts_use_only_metrics_the_services_export() -> None:
    docs = [doc for doc in yaml.safe_load_all(_build("production")) if doc]
    [rule] = [d for d in docs if d["kind"] == "PrometheusRule"]
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    for alert in alerts:
        promql_parser.parse(alert["expr"])  # raises on a malformed expression
    used = {name for a in alerts for name in re.findall(r"\bomni_\w+", a["expr"])}
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    exported = {
        family.name + suffix
        for collector in vars(metrics).values()
        if isinstance(collector, MetricWrapperBase)
        for family in collector.describe()
        for suffix in suffixes[family.type]
    }
    assert used and used <= exported, used - exported
    for name in (
        "OmniOutboxBacklog",
        "OmniConsumerLagging",
        "OmniConsumerFailing",
        "OmniDeadLetters",
    ):
        assert name in {a["alert"] for a in alerts}


def test_the_dockerfile_passes_hadolint() -> None:
    _run(str(BIN / "hadolint"), str(ROOT / "deploy" / "Dockerfile"))
