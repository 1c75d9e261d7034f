"""Great Expectations 1.x suite over the rows chosen to be written to respond.io.

It runs after ownership and de-duplication, so every expectation here is a rule the normaliser and the
ownership step *guarantee*: a failure is a bug, and the caller should fail the task loudly
(:meth:`ValidationSummary.raise_for_failure`). Row-level data problems are rejections made earlier, never
suite failures. Shared emails among *all* contacts are normal; among the rows written they must not occur.

pandas and great_expectations are imported inside the functions (nothing heavy at package import).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contact_sync.gcpause import gc_paused
from contact_sync.phones import E164_PATTERN

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context import AbstractDataContext

    from contact_sync.ownership import Decision

__all__ = [
    "COLUMNS",
    "SuiteFailure",
    "ValidationSummary",
    "build_suite",
    "frame_for_validation",
    "validate_written",
]

log = logging.getLogger(__name__)

SUITE_NAME = "contact_sync_written_rows"
#: Columns of the frame the suite runs on.
COLUMNS = ("sf_id", "identifier", "email_key", "phone_key", "verdict", "phone_region", "bulk_rule")
SF_ID_PATTERN = r"^[a-zA-Z0-9]{18}$"
IDENTIFIER_PATTERN = r"^(?:email:[^\s@]+@[^\s@]+\.[^\s@]+|phone:\+[1-9]\d{6,14})$"
EMAIL_KEY_PATTERN = r"^[^\sA-Z@]+@[^\sA-Z@]+\.[^\sA-Z@]+$"
VERDICTS = ("valid", "invalid", "missing")
_CATEGORICAL = ("verdict", "phone_region", "bulk_rule")


class SuiteFailure(RuntimeError):
    """A guaranteed rule failed on the rows to write: a bug in the normaliser or the ownership step.

    :param summary: the :class:`ValidationSummary` (its ``as_dict()`` is safe to push or log).
    """

    def __init__(self, summary: ValidationSummary) -> None:
        failed = ", ".join(f"{item['expectation']}({item['column']})" for item in summary.failed_expectations)
        super().__init__(
            f"contact-sync validation suite failed: {failed}; rows: {summary.failing_row_ids[:20]}"
        )
        self.summary = summary


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    """Compact outcome of :func:`validate_written`.

    :param success: whether every expectation passed.
    :param evaluated_expectations: number of expectations run.
    :param successful_expectations: number that passed.
    :param row_count: rows validated.
    :param failed_expectations: ``[{"expectation", "column", "unexpected_count"}]`` for each failure.
    :param failing_row_ids: Salesforce Ids of the offending rows (sorted, unique).
    :param data_docs_index: path of the Data Docs ``index.html`` when written.
    """

    success: bool
    evaluated_expectations: int
    successful_expectations: int
    row_count: int
    failed_expectations: list[dict[str, Any]] = field(default_factory=list)
    failing_row_ids: list[str] = field(default_factory=list)
    data_docs_index: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for XCom or a report)."""
        return {
            "success": self.success,
            "evaluated_expectations": self.evaluated_expectations,
            "successful_expectations": self.successful_expectations,
            "row_count": self.row_count,
            "failed_expectations": self.failed_expectations,
            "failing_row_ids": self.failing_row_ids,
            "data_docs_index": self.data_docs_index,
        }

    def raise_for_failure(self) -> None:
        """Raise :class:`SuiteFailure` unless the suite passed."""
        if not self.success:
            raise SuiteFailure(self)


def build_suite(context: AbstractDataContext | None = None) -> gx.ExpectationSuite:
    """Build the expectation suite in code (a fresh object each call; nothing is persisted).

    :param context: the GX context the suite belongs to; an ephemeral one is made when omitted (GX needs an
        active context to build a suite).
    :return: an unsaved ``ExpectationSuite`` named ``contact_sync_written_rows``.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe

    if context is None:
        gx.get_context(mode="ephemeral")
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    for column in COLUMNS:
        suite.add_expectation(gxe.ExpectColumnToExist(column=column))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="sf_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="sf_id", regex=SF_ID_PATTERN))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="sf_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="identifier"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="identifier"))
    suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="identifier", regex=IDENTIFIER_PATTERN))
    suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="phone_key", regex=E164_PATTERN))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="phone_key"))
    suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="email_key", regex=EMAIL_KEY_PATTERN))
    suite.add_expectation(
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="email_key", column_B="email_key_lower", ignore_row_if="either_value_is_missing"
        )
    )
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="email_key"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="verdict"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="verdict", value_set=list(VERDICTS)))
    return suite


def frame_for_validation(decisions: Iterable[Decision]) -> pd.DataFrame:
    """Build the frame of rows to write (``action == "write"``) that the suite validates.

    :param decisions: ownership decisions (others than ``write`` are left out).
    :return: a DataFrame with :data:`COLUMNS` plus the helper ``email_key_lower``.
    """
    import pandas as pd

    with gc_paused():
        rows = [
            (
                d.contact.sf_id,
                d.contact.identifier,
                d.email_key,
                d.phone_key,
                d.contact.verdict,
                (d.contact.phone_result.region if d.phone_key and d.contact.phone_result else None),
                None if d.contact.bulk_rule is None else str(d.contact.bulk_rule),
            )
            for d in decisions
            if d.action == "write"
        ]
        frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
        del rows
        # Few distinct values: categoricals make GX's row filtering (a take per column) and null checks cheap.
        for column in _CATEGORICAL:
            frame[column] = frame[column].astype("category")
        return with_helper_columns(frame)


def with_helper_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the derived column the suite compares against (``email_key_lower``), vectorised.

    :param frame: a frame with at least ``email_key``.
    :return: the same frame (modified in place) for chaining.
    """
    frame["email_key_lower"] = frame["email_key"].str.lower()
    return frame


def _row_ids(result: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for item in result.get("unexpected_index_list") or []:
        if isinstance(item, dict) and item.get("sf_id") is not None:
            ids.append(str(item["sf_id"]))
    return ids


@contextmanager
def _without_fingerprint() -> Iterator[None]:
    """Skip GX's ``pandas_data_fingerprint`` batch marker (an md5 over every cell) while the suite runs.

    The fingerprint is not an expectation and nothing here reads it, yet hashing every string of a large frame
    costs about as much as half the suite. GX computes it only below ``HASH_THRESHOLD`` bytes of frame; the
    threshold is lowered for the duration of the run (no-op if that GX internal is gone).
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine

    if not hasattr(engine, "HASH_THRESHOLD"):
        yield
        return
    previous = engine.HASH_THRESHOLD
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = previous


def _run(
    context: AbstractDataContext,
    definition: gx.ValidationDefinition,
    frame: pd.DataFrame,
    result_format: dict[str, Any],
    data_docs_dir: str | Path | None,
    run_name: str,
) -> tuple[Any, str | None]:
    """Run the validation definition, through a checkpoint that writes Data Docs when asked."""
    import great_expectations as gx

    if data_docs_dir is None:
        return definition.run(batch_parameters={"dataframe": frame}, result_format=result_format), None
    base = Path(data_docs_dir).resolve()
    context.add_data_docs_site(
        site_name="contact_sync",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(base)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="contact_sync",
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=["contact_sync"])],
            result_format=result_format,
        )
    )
    checkpoint_result = checkpoint.run(
        batch_parameters={"dataframe": frame}, run_id=gx.RunIdentifier(run_name=run_name)
    )
    result = next(iter(checkpoint_result.run_results.values()))
    index = base / "index.html"
    docs_index = str(index) if index.exists() else None
    return result, docs_index


def validate_written(
    frame: pd.DataFrame,
    *,
    data_docs_dir: str | Path | None = None,
    run_name: str = "contact-sync",
) -> ValidationSummary:
    """Run the suite on the rows to write with an ephemeral GX context.

    :param frame: from :func:`frame_for_validation` (or any frame with the same columns).
    :param data_docs_dir: when given, HTML Data Docs are written under this folder.
    :param run_name: name of the validation run (shown in Data Docs).
    :return: a :class:`ValidationSummary`; call ``raise_for_failure()`` to fail loudly.
    """
    import great_expectations as gx

    if "email_key_lower" not in frame.columns and "email_key" in frame.columns:
        frame = with_helper_columns(frame.copy())
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_pandas(name="contact_sync")
    asset = source.add_dataframe_asset(name="written_rows")
    batch_definition = asset.add_batch_definition_whole_dataframe(name="batch")
    suite = context.suites.add(build_suite(context))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="contact_sync_written_rows", data=batch_definition, suite=suite)
    )
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["sf_id"]}
    with _without_fingerprint():
        result, docs_index = _run(context, definition, frame, result_format, data_docs_dir, run_name)
    failed: list[dict[str, Any]] = []
    row_ids: set[str] = set()
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        kwargs = config.kwargs if config is not None else {}
        detail = item.result or {}
        failed.append(
            {
                "expectation": config.type if config is not None else "unknown",
                "column": kwargs.get("column") or f"{kwargs.get('column_A')},{kwargs.get('column_B')}",
                "unexpected_count": detail.get("unexpected_count"),
            }
        )
        row_ids.update(_row_ids(detail))
    statistics = result.statistics
    summary = ValidationSummary(
        success=bool(result.success),
        evaluated_expectations=int(statistics.get("evaluated_expectations", 0)),
        successful_expectations=int(statistics.get("successful_expectations", 0)),
        row_count=len(frame),
        failed_expectations=failed,
        failing_row_ids=sorted(row_ids),
        data_docs_index=docs_index,
    )
    log.info(
        "Validation suite %s: %s/%s expectations passed on %s rows",
        SUITE_NAME,
        summary.successful_expectations,
        summary.evaluated_expectations,
        summary.row_count,
    )
    return summary
