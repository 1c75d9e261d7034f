"""Run both stand-ins in the foreground on the ports airflow_settings.yaml points at (Ctrl-C stops them).

./dev standins            # then: ./dev airflow standalone   (in another shell)
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_env import PROJECT_DIR, StandinSettings, start_standins  # noqa: E402


def main() -> int:
    settings = StandinSettings.from_airflow_settings(PROJECT_DIR / "airflow_settings.yaml")
    salesforce, respond_io = start_standins(settings, data_dir=PROJECT_DIR / "var" / "standins")
    print(f"Salesforce stand-in: {salesforce.url}  (CA: {settings.ca_file}, log: {salesforce.log_path})")
    print(f"respond.io stand-in: {respond_io.url}/v2  (log: {respond_io.log_path})")
    print("Ctrl-C stops both.")
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop and salesforce.process.poll() is None and respond_io.process.poll() is None:
            time.sleep(0.5)
    finally:
        respond_io.stop()
        salesforce.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
