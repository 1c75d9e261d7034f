"""The Dockerfile and .dockerignore agree with pyproject.toml and requirements.txt and keep secrets out.

No Docker engine here: these read the files. The base image must be the Airflow and Python the project is
pinned and locked for; every installable package must be copied and let through .dockerignore; local state,
env files and development connections must stay out of the build context.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@cache
def instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def copies() -> dict[str, str]:
    """Source → destination of every COPY (``--chown`` and other flags dropped)."""
    mapping = {}
    for keyword, rest in instructions():
        if keyword == "COPY":
            parts = [p for p in rest.split() if not p.startswith("--")]
            *sources, destination = parts
            for source in sources:
                mapping[source] = destination
    return mapping


def environment() -> dict[str, str]:
    env = {}
    for keyword, rest in instructions():
        if keyword == "ENV":
            env.update(dict(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", rest)))
    return env


def pin(requirements: Path, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}==(\S+)$", requirements.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{name} is not pinned in {requirements.name}"
    return match.group(1)


def installable_packages() -> set[str]:
    """Top-level packages pyproject.toml installs (setuptools' own discovery with the file's patterns)."""
    from setuptools import find_packages

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return {name.split(".")[0] for name in find_packages(where=str(ROOT), include=patterns)}


# --- .dockerignore, with Docker's rules: patterns relative to the context, "**" any depth, a path is excluded
# when it or one of its parents matches, the last matching pattern wins, "!" re-includes.
def _pattern(pattern: str) -> re.Pattern[str]:
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            regex, i = regex + pattern[i : end + 1], end + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex)


@cache
def ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _pattern(line.lstrip("!").strip("/"))))
    return rules


def in_build_context(path: str) -> bool:
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, pattern in ignore_rules():
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return not excluded


def test_the_ignore_rules_behave_like_dockers():
    assert _pattern("**/__pycache__").fullmatch("contact_sync/state/__pycache__")
    assert _pattern("**/__pycache__").fullmatch("__pycache__")
    assert _pattern("*").fullmatch("var") and not _pattern("*").fullmatch("var/certs")
    assert not in_build_context("var/certs/ca-key.pem")  # excluded through its parent "var"


def test_the_base_image_is_the_pinned_airflow_on_the_locked_python():
    images = [rest for keyword, rest in instructions() if keyword == "FROM"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    assert len(images) == 1
    match = re.fullmatch(r"apache/airflow:(\S+)-python(\d+\.\d+)", images[0])
    assert match, images[0]
    airflow, python = match.groups()
    assert airflow == pin(ROOT / "requirements.txt", "apache-airflow")
    assert airflow == pin(ROOT / "constraints.txt", "apache-airflow")
    assert pyproject["project"]["requires-python"] == f">={python},<3.{int(python.split('.')[1]) + 1}"


def test_requirements_are_installed_with_the_lock_file():
    runs = [rest for keyword, rest in instructions() if keyword == "RUN"]

    assert copies()["requirements.txt"] == copies()["constraints.txt"] == "/opt/contact-sync/"
    assert any(
        "-r /opt/contact-sync/requirements.txt" in run and "-c /opt/contact-sync/constraints.txt" in run
        for run in runs
    )
    # The project itself adds nothing unpinned.
    assert any("--no-deps /opt/contact-sync" in run for run in runs)


def normalized_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()] = version
    return pins


def test_the_lock_file_agrees_with_every_pin_and_holds_nothing_local():
    requirements = normalized_pins(ROOT / "requirements.txt")
    lock = normalized_pins(ROOT / "constraints.txt")

    # pip in the image refuses a pin the constraints contradict, and cannot reach local or editable entries.
    assert {name: version for name, version in requirements.items() if lock.get(name) != version} == {}
    assert [
        name for name, version in lock.items() if not re.fullmatch(r"[0-9][0-9A-Za-z.+!]*", version)
    ] == []


@pytest.mark.parametrize("package", sorted(installable_packages()))
def test_every_installable_package_is_copied_and_in_the_build_context(package):
    assert copies().get(package) == f"/opt/contact-sync/{package}"
    assert copies()["pyproject.toml"] == "/opt/contact-sync/"
    for path in (ROOT / package).rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if "__pycache__" not in relative:
            assert in_build_context(relative), relative


def test_the_package_list_is_what_pyproject_installs():
    assert installable_packages() == {"contact_sync", "contact_sync_ops", "contact_sync_inbox", "sandbox"}


def test_airflow_folders_and_settings_are_where_the_environment_points():
    env = environment()

    assert copies()["dags"] == "/opt/airflow/dags" == env["AIRFLOW__CORE__DAGS_FOLDER"]
    assert copies()["plugins"] == "/opt/airflow/plugins" == env["AIRFLOW__CORE__PLUGINS_FOLDER"]
    assert copies()["include"] == "/opt/airflow/include"
    assert env["CONTACT_SYNC_CONFIG"] == "/opt/airflow/include/contact_sync.yaml"
    assert (ROOT / "include" / "contact_sync.yaml").is_file()
    assert env["CONTACT_SYNC_SQL_DIR"] == "/opt/airflow/include/sql"
    assert (ROOT / "include" / "sql" / "failures_in_range.sql").is_file()
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    for folder in ("dags", "plugins", "include"):
        assert in_build_context(f"{folder}/x"), folder
    assert in_build_context("plugins/.airflowignore")
    assert in_build_context("deploy/create_state_db.py")
    assert copies()["deploy/create_state_db.py"] == "/opt/contact-sync/deploy/create_state_db.py"


@pytest.mark.parametrize(
    "path",
    [
        "airflow_settings.yaml",
        "var/airflow/airflow.db",
        "var/certs/ca.pem",
        "var/contact_sync.local.yaml",
        "deploy/compose.env",
        ".env",
        "plugins/.env",
        ".venv/bin/python",
        ".git/config",
        "tests/conftest.py",
        "bench/bench_rules.py",
        "contact_sync.egg-info/PKG-INFO",
        "contact_sync/__pycache__/settings.cpython-311.pyc",
        "docker-compose.yaml",
    ],
)
def test_secrets_and_local_state_stay_out_of_the_build_context(path):
    assert not in_build_context(path)


def test_no_secret_or_connection_is_baked_in():
    names = [
        name
        for keyword, rest in instructions()
        if keyword in {"ENV", "ARG", "LABEL"}
        for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", rest)
    ]
    sources = set(copies())

    assert names, "the Dockerfile sets no ENV at all"
    assert [
        n for n in names if re.search(r"PASSWORD|SECRET|TOKEN|FERNET|^AIRFLOW_CONN_|SQL_ALCHEMY_CONN", n)
    ] == []
    assert sources.isdisjoint({"airflow_settings.yaml", "var", ".env", "deploy", "tests", "."})
