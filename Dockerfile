# contact-sync on the official Airflow image (same Airflow and Python versions as requirements.txt /
# constraints.txt). Not built in our CI (no Docker engine there); keep it minimal.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root requirements.txt constraints.txt /opt/contact-sync/
RUN pip install --no-cache-dir -r /opt/contact-sync/requirements.txt -c /opt/contact-sync/constraints.txt

# The project itself: the domain package (contact_sync), operator tooling and the stand-ins.
COPY --chown=airflow:root pyproject.toml /opt/contact-sync/
COPY --chown=airflow:root contact_sync /opt/contact-sync/contact_sync
COPY --chown=airflow:root contact_sync_ops /opt/contact-sync/contact_sync_ops
COPY --chown=airflow:root sandbox /opt/contact-sync/sandbox
RUN pip install --no-cache-dir --no-deps /opt/contact-sync

COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root plugins /opt/airflow/plugins
COPY --chown=airflow:root include /opt/airflow/include
ENV CONTACT_SYNC_CONFIG=/opt/airflow/include/contact_sync.yaml
