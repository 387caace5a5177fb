"""Readers for the deployment files the tests check: the Dockerfile (stages and instructions, the way
the Docker builder splits them), .dockerignore (moby's matching rules), Compose and Kubernetes YAML."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.paths import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
IMAGE_CONFIG = ROOT / "deploy" / "docker" / "doctriage.toml"
COMPOSE = ROOT / "deploy" / "compose.yaml"
KUBERNETES = ROOT / "deploy" / "kubernetes"


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def one(self, keyword: str) -> str:
        found = self.all(keyword)
        assert len(found) == 1, f"stage {self.name}: {len(found)} {keyword} instructions"
        return found[0]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for args in self.all("ENV"):
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                values[key] = value
        return values

    def exec_form(self, keyword: str) -> list[str]:
        value = json.loads(self.one(keyword))
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"{keyword} is not exec form"
        return value

    def healthcheck(self) -> tuple[dict[str, str], list[str]]:
        """The HEALTHCHECK's options and its command (exec form)."""
        options, _, command = self.one("HEALTHCHECK").partition(" CMD ")
        opts = dict(opt.removeprefix("--").split("=", 1) for opt in options.split())
        value = json.loads(command)
        assert isinstance(value, list), "HEALTHCHECK CMD is not exec form"
        return opts, value

    def copies(self) -> list[tuple[str | None, list[str], str]]:
        """(--from stage or None, sources, destination) of every COPY."""
        result = []
        for args in self.all("COPY"):
            words = shlex.split(args)
            source_stage = None
            while words[0].startswith("--"):
                flag = words.pop(0)
                if flag.startswith("--from="):
                    source_stage = flag.split("=", 1)[1]
            result.append((source_stage, words[:-1], words[-1]))
        return result


def dockerfile_stages(path: Path = DOCKERFILE) -> list[Stage]:
    """The stages in order; each instruction with its continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not current):
            continue
        if line.endswith("\\"):
            current += line[:-1].rstrip() + " "
            continue
        logical.append(current + line)
        current = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name=name, base=words[0]))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def dockerfile_args(path: Path = DOCKERFILE) -> dict[str, str]:
    """The global ARGs (before the first FROM) and their defaults."""
    args: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("FROM "):
            break
        if line.startswith("ARG "):
            key, _, value = line[4:].strip().partition("=")
            args[key] = value
    return args


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(f"^{out}$")


class DockerIgnore:
    """moby/patternmatcher: the last pattern that matches a path or one of its parent directories
    decides; a `!` pattern takes the path back into the build context."""

    def __init__(self, path: Path = DOCKERIGNORE) -> None:
        self.patterns: list[tuple[bool, re.Pattern[str]]] = []
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            line = line.removeprefix("!").strip().removeprefix("./").lstrip("/")
            self.patterns.append((keep, _pattern_regex(line)))

    def excluded(self, path: str) -> bool:
        parts = path.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for keep, regex in self.patterns:
            if any(regex.match(candidate) for candidate in candidates):
                excluded = not keep
        return excluded


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def kubernetes_resources() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in sorted(KUBERNETES.glob("*.yaml")) for doc in yaml_documents(path)]


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [doc for _, doc in kubernetes_resources() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"{len(matches)} {kind}/{name} in deploy/kubernetes"
    return matches[0]


def pod_containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every container of a pod: init containers (native sidecars among them) and regular ones."""
    return [*pod_spec.get("initContainers", []), *pod_spec.get("containers", [])]


def image_config() -> dict[str, Any]:
    return tomllib.loads(IMAGE_CONFIG.read_text())


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])


def size_bytes(value: str) -> int:
    """A clamd.conf SIZE: bytes, or with a K/M suffix."""
    units = {"K": 1024, "M": 1024 * 1024}
    suffix = value[-1].upper()
    return int(value[:-1]) * units[suffix] if suffix in units else int(value)
