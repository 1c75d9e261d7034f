"""Every file in dags/ imports cleanly, fast, and follows the house rules for DAGs and task code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (PROJECT_DIR / "dags").glob("*.py") if not p.name.startswith("_"))
TASK_CODE = sorted([*DAG_FILES, *(PROJECT_DIR / "plugins").rglob("*.py")])


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_DIR / "dags"))


def test_there_are_dag_files():
    assert DAG_FILES, "dags/ holds no DAG file"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_dag_file_imports_without_errors(dagbag, path):
    assert str(path) not in dagbag.import_errors, dagbag.import_errors.get(str(path))
    assert any(dag.fileloc == str(path) for dag in dagbag.dags.values()), f"{path.name} defines no DAG"


def test_dags_have_tags_retries_and_docs(dagbag):
    assert dagbag.dags
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        assert dag.start_date is not None and dag.start_date.tzinfo is not None, f"{dag_id}: naive start_date"
        for task in dag.tasks:
            assert 2 <= task.retries <= 4, f"{dag_id}.{task.task_id} has {task.retries} retries"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_nothing_heavy_at_parse_time(path):
    """Importing a DAG file must not import pandas, GX, simple-salesforce or SQLAlchemy engines' drivers."""
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]); "
        "heavy = [m for m in ('pandas', 'great_expectations', 'simple_salesforce', 'psycopg2', 'phonenumbers') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_DIR,
        env={**__import__("os").environ, "PYTHONPATH": f"{PROJECT_DIR}/plugins:{PROJECT_DIR}/dags"},
    )
    assert result.stdout.strip() == "", f"{path.name} imports at parse time: {result.stdout.strip()}"


FORBIDDEN_IMPORTS = ("airflow.settings", "airflow.utils.session", "airflow.models")


@pytest.mark.parametrize("path", TASK_CODE, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_task_code_never_touches_the_metadata_db(path):
    """Tasks may not use Airflow's metadata DB (a RuntimeError under a real executor, not under `dags test`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    offenders = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        offenders += [n for n in names if n.startswith(FORBIDDEN_IMPORTS)]
        if isinstance(node, ast.Name) and node.id in {"provide_session", "create_session", "NEW_SESSION"}:
            offenders.append(node.id)
    assert not offenders, f"{path.name} uses the metadata DB: {offenders}"


def test_domain_package_has_no_airflow_import():
    """contact_sync is pure domain code: importing all of it must not import airflow."""
    code = (
        "import importlib, pkgutil, sys, contact_sync\n"
        "for m in pkgutil.walk_packages(contact_sync.__path__, 'contact_sync.'):\n"
        "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "print('airflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert result.stdout.strip() == "False"


def test_plugin_manager_does_not_shadow_packages_with_plugin_files():
    """Airflow executes every plugins/*.py as a top-level module named after the file unless .airflowignore'd."""
    code = (
        "import sys, airflow.plugins_manager as pm; pm.ensure_plugins_loaded(); "
        "import contact_sync; print(contact_sync.__file__); "
        "print(sorted(m for m in sys.modules if m in {'salesforce', 'respond_io', 'state_db', 'contact_sync_job', "
        "'__init__'}))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**__import__("os").environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_DIR / "plugins")},
    )  # fmt: skip
    package_file, shadows = result.stdout.strip().splitlines()[-2:]
    assert package_file == str(PROJECT_DIR / "contact_sync" / "__init__.py")
    assert shadows == "[]"
