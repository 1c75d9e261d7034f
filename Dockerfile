# contact-sync on the official Apache Airflow image, for every process of a deployment: api-server, scheduler,
# dag-processor, triggerer, Celery workers, flower, and the inbox service (docs/production.md).
#
# The tag must match `apache-airflow==` in requirements.txt and the Python of the lock file (constraints.txt,
# resolved for 3.11); tests/deploy/test_compose.py checks both. Not built in our CI (no Docker engine there).
#
# Nothing secret goes into the image: no connections, no airflow_settings.yaml (local development only), no
# var/ (certificates, local state). Connections come at run time from AIRFLOW_CONN_* variables or a secrets
# backend; .dockerignore keeps everything else out of the build context.
FROM apache/airflow:3.3.2-python3.11

# pip builds the project inside its source folder, so that folder belongs to the airflow user.
USER root
RUN install -d -o airflow -g 0 -m 0775 /opt/contact-sync /opt/airflow/validation-reports
USER airflow

# Dependencies first (this layer is reused until a pin changes): the direct pins, with the lock file as
# constraints, so every transitive package is the version the tests ran with. requirements.txt pins
# apache-airflow itself, so pip cannot move Airflow away from the base image's version.
COPY --chown=airflow:0 requirements.txt constraints.txt /opt/contact-sync/
RUN pip install --no-cache-dir -r /opt/contact-sync/requirements.txt -c /opt/contact-sync/constraints.txt

# The installable packages (pyproject.toml [tool.setuptools.packages.find]): the domain package, the operator
# tooling (the `contact-sync` command), the inbox service and the stand-ins (for staging smoke tests).
COPY --chown=airflow:0 pyproject.toml /opt/contact-sync/
COPY --chown=airflow:0 contact_sync /opt/contact-sync/contact_sync
COPY --chown=airflow:0 contact_sync_ops /opt/contact-sync/contact_sync_ops
COPY --chown=airflow:0 contact_sync_inbox /opt/contact-sync/contact_sync_inbox
COPY --chown=airflow:0 sandbox /opt/contact-sync/sandbox
RUN pip install --no-cache-dir --no-deps /opt/contact-sync

# Creates the state database and its role on first start (airflow-init in docker-compose.yaml).
COPY --chown=airflow:0 deploy/create_state_db.py /opt/contact-sync/deploy/create_state_db.py

# DAGs, plugins (with plugins/.airflowignore) and settings/SQL, where Airflow and the project look for them.
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 include /opt/airflow/include

# The installed packages live in site-packages, away from include/, so the settings file and the report SQL are
# named explicitly. The `contact-sync` command finds `hooks` through the plugins folder; the standalone inbox
# service gets PYTHONPATH=/opt/airflow/plugins from its service definition.
ENV AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/airflow/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/airflow/plugins \
    CONTACT_SYNC_CONFIG=/opt/airflow/include/contact_sync.yaml \
    CONTACT_SYNC_SQL_DIR=/opt/airflow/include/sql \
    CONTACT_SYNC_REPORTS_DIR=/opt/airflow/validation-reports
