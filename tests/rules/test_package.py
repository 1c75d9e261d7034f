"""Package hygiene: no Airflow (and nothing heavy) at import, every reason code documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from contact_sync import Reason

README = Path(__file__).resolve().parents[2] / "contact_sync" / "README.md"


def test_importing_contact_sync_loads_no_airflow_pandas_or_gx() -> None:
    code = (
        "import sys, contact_sync\n"
        "from contact_sync import normalize_email, normalize_phone, classify, assign_ownership\n"
        "classify({'Id': '003000000000001AAA', 'Email': 'a@example.com', 'Phone': '415 555 2671'})\n"
        "bad = [m for m in ('airflow', 'pandas', 'great_expectations') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)

    assert out.stdout.strip() == ""


def test_no_module_mentions_airflow_imports() -> None:
    package = Path(__file__).resolve().parents[2] / "contact_sync"
    offenders = [
        path.name
        for path in package.glob("*.py")
        if re.search(r"^\s*(from|import)\s+airflow", path.read_text(), flags=re.MULTILINE)
    ]

    assert offenders == []


def test_every_reason_code_is_documented_in_the_readme() -> None:
    text = README.read_text()
    documented = set(re.findall(r"^\|\s*`([A-Z_]+)`[^|]*\|", text, flags=re.MULTILINE))

    assert {reason.value for reason in Reason} <= documented
    assert documented - {reason.value for reason in Reason} <= {"IMPORT_USER", "BURST"}
