"""deploy/kubernetes/*.yaml: every resource against the Kubernetes JSON schemas that pinned
kubernetes-validate bundles (strict: unknown fields refused), and what matters checked against the
sidecar's code: probes on grpc.health.v1, settings that load, ports, security context, references."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from harness.paths import ROOT
from sidecar.config import ScannerSettings, load_settings
from sidecar.pipeline.rules import RuleBook
from sidecar.server.app import ADMIN, CLASSIFIER
from tests.deploy.manifests import (
    dockerfile_stages,
    find,
    kubernetes_resources,
    pod_containers,
    port_of,
    size_bytes,
)

KUBERNETES_VERSION = "1.37.0"
CONFIG_DIR = "/etc/doctriage"


def _sidecar_pod() -> dict[str, Any]:
    spec: dict[str, Any] = find("Deployment", "billing")["spec"]["template"]
    return spec


def _doctriage() -> dict[str, Any]:
    (container,) = (c for c in pod_containers(_sidecar_pod()["spec"]) if c["name"] == "doctriage")
    return container


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The sidecar's settings as the pod gets them: the ConfigMap's file, the Secret's keys (env)."""
    config_map = find("ConfigMap", "doctriage-config")["data"]
    for name, text in config_map.items():
        (tmp_path / name).write_text(text)
    config = (tmp_path / "doctriage.toml").read_text().replace(CONFIG_DIR, str(tmp_path))
    (tmp_path / "doctriage.toml").write_text(config)
    for key in [k for k in os.environ if k.startswith("DOCTRIAGE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DOCTRIAGE_CONFIG", str(tmp_path / "doctriage.toml"))
    for env in _doctriage().get("env", []):
        ref = env["valueFrom"]["secretKeyRef"]
        monkeypatch.setenv(env["name"], find("Secret", ref["name"])["stringData"][ref["key"]])
    return load_settings(data_dir=ROOT)


@pytest.mark.parametrize("resource", kubernetes_resources(), ids=lambda r: f"{r[0].name}:{r[1]['kind']}")
def test_resource_matches_the_kubernetes_schema(resource: tuple[Path, dict[str, Any]]) -> None:
    _, doc = resource
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_refuses_a_broken_pod() -> None:
    broken = copy.deepcopy(find("Deployment", "billing"))
    broken["spec"]["template"]["spec"]["initContainers"][0]["readinessProbe"]["grpc"]["service"] = 7
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = copy.deepcopy(find("Deployment", "billing"))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_probes_use_grpc_health_on_the_services_the_sidecar_registers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    container = _doctriage()
    grpc_port = port_of(_settings(monkeypatch, tmp_path).server.address)
    assert {"name": "grpc", "containerPort": grpc_port} in container["ports"]
    services = {}
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container[kind]["grpc"]
        assert probe["port"] == grpc_port
        services[kind] = probe.get("service", "")
    # Ready only when it can classify (model READY, clamd answering); alive as long as it runs,
    # whatever clamd does (tests/deploy/test_image_runtime.py asks these on a real sidecar).
    assert services == {"startupProbe": ADMIN, "readinessProbe": CLASSIFIER, "livenessProbe": ADMIN}
    # A native sidecar: it starts before the app and stops after it.
    assert container in _sidecar_pod()["spec"]["initContainers"] and container["restartPolicy"] == "Always"


def test_pod_and_containers_are_non_root_read_only_and_without_capabilities() -> None:
    for deployment in ("billing", "clamd"):
        pod = find("Deployment", deployment)["spec"]["template"]["spec"]
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in pod_containers(pod):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["capabilities"]["drop"] == ["ALL"], container["name"]
    # The uid the image was built for.
    user = {s.name: s for s in dockerfile_stages()}["cpu"].one("USER").split(":")[0]
    assert find("Deployment", "billing")["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(user)


def test_what_the_sidecar_writes_is_an_emptydir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pod = _sidecar_pod()["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in _doctriage()["volumeMounts"]}
    data_dir = {s.name: s for s in dockerfile_stages()}["cpu"].env()["DOCTRIAGE_DATA_DIR"]
    settings = _settings(monkeypatch, tmp_path)
    # state.dir and review.path are under the data directory's var/ (the image's defaults).
    assert settings.state.dir == ROOT / "var" and settings.review.path.parent == ROOT / "var"
    for path in (f"{data_dir}/var", "/tmp"):
        mount = mounts[path]
        assert not mount.get("readOnly", False) and "emptyDir" in volumes[mount["name"]], path
    config = mounts[CONFIG_DIR]
    assert config["readOnly"] is True
    assert volumes[config["name"]]["configMap"]["name"] == "doctriage-config"


def test_configmap_and_secret_give_settings_that_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings(monkeypatch, tmp_path)  # refuses unknown keys, checks every key entry
    assert settings.auth.enabled and [k.id for k in settings.auth.keys] == ["billing", "ops"]
    assert not settings.scanner.fail_open
    # The rules the ConfigMap mounts are the release's, and the sidecar reads them from the mount.
    assert settings.business_rules.path == tmp_path / "rules.toml"
    rules = find("ConfigMap", "doctriage-config")["data"]["rules.toml"]
    assert rules == (ROOT / "config" / "rules.toml").read_text(), "copy config/rules.toml into the ConfigMap"
    RuleBook.load(settings.business_rules.path)
    # Sized to the CPU request, not to os.cpu_count() (the node's cores).
    cpus = int(_doctriage()["resources"]["requests"]["cpu"])
    assert settings.server.workers == settings.ocr.workers == cpus
    assert settings.server.max_concurrent_requests == 4 * cpus
    grace = _sidecar_pod()["spec"]["terminationGracePeriodSeconds"]
    assert grace > settings.server.grace_period_s


def test_metrics_are_scraped_where_the_sidecar_exports_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings(monkeypatch, tmp_path)
    annotations = _sidecar_pod()["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == settings.metrics.port
    assert {"name": "metrics", "containerPort": settings.metrics.port} in _doctriage()["ports"]
    assert settings.metrics.address == "0.0.0.0"


def test_the_sidecar_reaches_clamd_and_only_scanner_clients_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    scheme, host, port = _settings(monkeypatch, tmp_path).scanner.address.split(":")
    service = find("Service", host)
    assert scheme == "tcp" and service["spec"]["ports"][0]["port"] == int(port)
    clamd_pod = find("Deployment", "clamd")["spec"]["template"]
    assert service["spec"]["selector"].items() <= clamd_pod["metadata"]["labels"].items()
    (clamd,) = clamd_pod["spec"]["containers"]
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in clamd["ports"]}
    env = {e["name"]: e["value"] for e in clamd["env"]}
    assert size_bytes(env["CLAMD_CONF_StreamMaxLength"]) >= ScannerSettings().stream_max_bytes
    (rule,) = find("NetworkPolicy", "clamd")["spec"]["ingress"]
    (peer,) = rule["from"]
    assert peer["podSelector"]["matchLabels"].items() <= _sidecar_pod()["metadata"]["labels"].items()


def test_other_pods_cannot_reach_the_sidecars_grpc_port(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    grpc_port = port_of(_settings(monkeypatch, tmp_path).server.address)
    policy = find("NetworkPolicy", "billing")["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= _sidecar_pod()["metadata"]["labels"].items()
    assert "Ingress" in policy["policyTypes"]
    opened = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
    assert grpc_port not in opened and 9464 in opened


def test_disruption_budgets_select_the_deployments_pods() -> None:
    for name in ("billing", "clamd"):
        budget = find("PodDisruptionBudget", name)["spec"]
        labels = find("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert budget["selector"]["matchLabels"].items() <= labels.items()
        # A drain may take one replica, never the last.
        replicas = find("Deployment", name)["spec"]["replicas"]
        allowed = budget.get("minAvailable", budget.get("maxUnavailable"))
        assert isinstance(allowed, int) and 1 <= allowed < replicas


def test_every_referenced_secret_and_configmap_is_defined() -> None:
    defined = {(doc["kind"], doc["metadata"]["name"]) for _, doc in kubernetes_resources()}
    text = json.dumps([doc for _, doc in kubernetes_resources()])
    for ref in re.findall(r'"secretKeyRef": \{"name": "([^"]+)"', text):
        assert ("Secret", ref) in defined
    for ref in re.findall(r'"configMap": \{"name": "([^"]+)"', text):
        assert ("ConfigMap", ref) in defined


def test_sidecar_args_are_flags_the_cli_accepts() -> None:
    args = _doctriage()["args"]
    assert args[0] == "serve"
    help_text = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve", "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for flag in (a for a in args if a.startswith("--")):
        assert re.search(rf"^\s+{re.escape(flag)}\b", help_text, re.MULTILINE), f"serve has no {flag}"
    assert args[args.index("--config") + 1] == f"{CONFIG_DIR}/doctriage.toml"
    data_dir = {s.name: s for s in dockerfile_stages()}["cpu"].env()["DOCTRIAGE_DATA_DIR"]
    assert args[args.index("--data-dir") + 1] == data_dir
