"""deploy/compose.yaml and the Prometheus and Grafana files it mounts: the compose-spec schema (the copy
pinned check-jsonschema carries), promtool, and the wiring between the services checked against the
image's settings and the files in the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from sidecar.config import ScannerSettings
from tests.deploy.manifests import (
    COMPOSE,
    DOCKERFILE,
    dockerfile_stages,
    image_config,
    port_of,
    size_bytes,
    yaml_documents,
)

DEPLOY = COMPOSE.parent


def _compose() -> dict[str, Any]:
    (doc,) = yaml_documents(COMPOSE)
    return doc


def _check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _mounts(service: str) -> dict[str, str]:
    """Container path -> host path (relative to deploy/) of a service's bind mounts; named volumes too."""
    mounts = {}
    for volume in _compose()["services"][service].get("volumes", []):
        source, target, *_ = volume.split(":")
        mounts[target] = source
    return mounts


def test_compose_file_matches_the_compose_spec(tmp_path: Path) -> None:
    result = _check_compose_schema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    # The schema does refuse what Compose would refuse (a misspelt service key).
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    read_only: true", "    readonly: true"))
    assert _check_compose_schema(broken).returncode == 1


def test_every_bind_mount_and_the_build_exist() -> None:
    services = _compose()["services"]
    named = set(_compose()["volumes"])
    for name in services:
        for target, source in _mounts(name).items():
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source} -> {target} is not in the repository"
            else:
                assert source in named, f"{name}: volume {source} is not declared"
    build = services["sidecar"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert build["target"] in {stage.name for stage in dockerfile_stages()}


def test_sidecar_service_agrees_with_the_image() -> None:
    service = _compose()["services"]["sidecar"]
    config = image_config()
    published = {int(p.rsplit(":", 1)[1]) for p in service["ports"]}
    assert published == {port_of(config["server"]["address"]), config["metrics"]["port"]}
    assert all(p.startswith("127.0.0.1:") for p in service["ports"])  # not on every host interface
    # Hardened like the Kubernetes pod: read-only root, /tmp and the state directory writable.
    assert service["read_only"] is True and "/tmp" in service["tmpfs"]
    assert service["cap_drop"] == ["ALL"] and "no-new-privileges:true" in service["security_opt"]
    env = {s.name: s for s in dockerfile_stages()}["cpu"].env()
    assert f"{env['DOCTRIAGE_DATA_DIR']}/var" in _mounts("sidecar")  # state.dir, review.path
    grace = config["server"]["grace_period_s"]
    assert float(service["stop_grace_period"].removesuffix("s")) > grace
    assert service["cpus"] == config["server"]["workers"]


def test_clamd_is_its_own_container_where_the_image_looks_for_it() -> None:
    services = _compose()["services"]
    scheme, host, port = image_config()["scanner"]["address"].split(":")
    assert scheme == "tcp" and host == "clamd" and int(port) == 3310
    assert services["clamd"]["image"].startswith("clamav/clamav:")
    stream = size_bytes(services["clamd"]["environment"]["CLAMD_CONF_StreamMaxLength"])
    assert stream >= ScannerSettings().stream_max_bytes


def test_prometheus_scrapes_the_sidecar_and_loads_the_alert_rules() -> None:
    mounts = _mounts("prometheus")
    config_path = next(t for t, s in mounts.items() if s == "./prometheus/prometheus.yml")
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert f"--config.file={config_path}" in _compose()["services"]["prometheus"]["command"]
    # Rule files are relative to the config file: in the container they must sit beside it as here.
    for rule_file in config["rule_files"]:
        in_container = str(PurePosixPath(config_path).parent / rule_file)
        assert mounts[in_container] == f"./prometheus/{rule_file}"
        assert (DEPLOY / "prometheus" / rule_file).is_file()
    (job,) = config["scrape_configs"]
    (targets,) = job["static_configs"]
    assert targets["targets"] == [f"sidecar:{image_config()['metrics']['port']}"]


def test_promtool_accepts_the_prometheus_config() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI (Debian package 'prometheus', in the Makefile's APT_PACKAGES)")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    result = subprocess.run(
        [promtool, "check", "config", "prometheus.yml"],
        cwd=DEPLOY / "prometheus",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "alerts.yml" in result.stdout + result.stderr  # it read the rule file too


def test_grafana_provisions_prometheus_and_the_dashboard() -> None:
    mounts = _mounts("grafana")
    provisioning = DEPLOY / mounts["/etc/grafana/provisioning"]
    (datasource,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert datasource["type"] == "prometheus" and datasource["isDefault"] is True
    prometheus_port = _compose()["services"]["prometheus"]["ports"][0].rsplit(":", 1)[1]
    assert datasource["url"] == f"http://prometheus:{prometheus_port}"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "doctriage.yml").read_text())["providers"]
    dashboard_dir = provider["options"]["path"]
    dashboards = {t: s for t, s in mounts.items() if str(PurePosixPath(t).parent) == dashboard_dir}
    assert dashboards == {f"{dashboard_dir}/doctriage.json": "./grafana/doctriage.json"}
    dashboard = json.loads((DEPLOY / "grafana" / "doctriage.json").read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == datasource["type"]
    home = _compose()["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home in mounts
