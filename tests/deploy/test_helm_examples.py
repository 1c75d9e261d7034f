"""The Kubernetes examples (deploy/helm/): not validated against a cluster, but well-formed and on message.

No Helm or cluster here, so this only reads them: valid YAML, marked as not validated, the CeleryExecutor with
several workers on our image, connections from Kubernetes Secrets, the inbox as its own Deployment, and no
secret written in them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / "deploy" / "helm"


def values() -> dict[str, Any]:
    return yaml.safe_load((HELM / "values.yaml").read_text(encoding="utf-8"))


def manifests() -> dict[str, dict[str, Any]]:
    documents = yaml.safe_load_all((HELM / "contact-sync.yaml").read_text(encoding="utf-8"))
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in documents if d}


def test_both_files_say_they_are_not_validated():
    for path in (HELM / "values.yaml", HELM / "contact-sync.yaml", ROOT / "docs" / "production.md"):
        assert "NOT VALIDATED HERE" in path.read_text(encoding="utf-8").upper(), path.name


def test_values_run_celery_workers_on_our_image():
    chart = values()

    assert chart["executor"] == "CeleryExecutor"
    assert chart["airflowVersion"] == "3.3.2"
    assert chart["images"]["airflow"]["repository"] != "apache/airflow"
    assert chart["workers"]["replicas"] > 1
    assert chart["dags"]["gitSync"]["enabled"] is False
    assert "contact-sync state migrate" in chart["migrateDatabaseJob"]["args"][-1]


def test_values_take_connections_and_keys_from_secrets_only():
    chart = values()
    text = (HELM / "values.yaml").read_text(encoding="utf-8")

    assert "secretRef" in chart["extraEnvFrom"]
    for key in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName"):
        assert chart[key], key
    for literal in ("fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey"):
        assert literal not in chart, literal
    assert chart["data"]["metadataSecretName"] and "metadataConnection" not in chart["data"]
    assert "AIRFLOW_CONN_" not in "".join(str(e.get("name")) for e in chart["env"])
    assert "password:" not in text.replace("passwordSecretName:", "")


def test_the_inbox_is_its_own_deployment_with_only_the_connections_it_reads():
    objects = manifests()
    inbox = objects["Deployment/contact-sync-inbox"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in inbox["env"]}

    assert set(objects) == {
        "Deployment/contact-sync-inbox",
        "Service/contact-sync-inbox",
        "Job/contact-sync-state-migrate",
    }
    assert inbox["args"][:3] == ["python", "-m", "contact_sync_inbox"]
    assert inbox["image"].split(":")[0] == values()["images"]["airflow"]["repository"]
    connections = {name for name in env if name.startswith("AIRFLOW_CONN_")}
    assert connections == {"AIRFLOW_CONN_CONTACT_SYNC_STATE", "AIRFLOW_CONN_SALESFORCE_DEFAULT"}
    for name in connections:
        assert "secretKeyRef" in env[name]["valueFrom"], name
    assert not any(name.startswith("AIRFLOW__") for name in env)
