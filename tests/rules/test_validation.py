"""The Great Expectations suite over the rows to write: passes a clean batch, catches a broken one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contact_sync import (
    SuiteFailure,
    assign_ownership,
    build_suite,
    classify_batch,
    frame_for_validation,
    validate_written,
)
from tests.rules.conftest import sf_id

Make = Callable[..., dict[str, Any]]


@pytest.fixture
def clean_frame(make_contact: Make):  # noqa: ANN201
    contacts = [
        make_contact(1, Email="Jane@Example.com", Phone="415 555 2671"),
        make_contact(2, Email="jane@example.com"),  # duplicate email: held, not written, not a failure
        make_contact(3, Email="n/a", MobilePhone="+44 20 7946 0958"),
        make_contact(4, Email="ünï@exämple.de", Phone="030 12345678", MailingCountry="Deutschland"),
        make_contact(5, Email="-", Phone="12 3"),  # rejected, not written
    ]
    result = assign_ownership(classify_batch(contacts), {})
    return frame_for_validation(result.decisions)


def test_suite_is_built_in_code() -> None:
    suite = build_suite()

    kinds = {e.expectation_type for e in suite.expectations}
    assert {"expect_column_values_to_be_unique", "expect_column_values_to_match_regex"} <= kinds
    assert build_suite() is not suite


def test_clean_batch_passes_and_writes_data_docs(clean_frame, tmp_path: Path) -> None:  # noqa: ANN001
    summary = validate_written(clean_frame, data_docs_dir=tmp_path / "docs", run_name="test-run")

    assert summary.success, summary.as_dict()
    assert summary.row_count == 3
    assert summary.failing_row_ids == []
    assert summary.data_docs_index is not None and Path(summary.data_docs_index).is_file()
    assert "contact_sync_written_rows" in Path(summary.data_docs_index).read_text()
    summary.raise_for_failure()


def test_broken_batch_is_caught_with_row_ids(clean_frame) -> None:  # noqa: ANN001
    broken = clean_frame.copy()
    broken.loc[0, "email_key"] = "Jane@Example.com"  # not lower-cased
    broken.loc[1, "phone_key"] = "+44 20 7946 0958"  # not E.164
    broken.loc[2, "identifier"] = broken.loc[0, "identifier"]  # identifier written twice
    broken.loc[2, "sf_id"] = "003SHORT"  # 15/18-char rule broken

    summary = validate_written(broken)

    assert not summary.success
    failed = {(f["expectation"], f["column"]) for f in summary.failed_expectations}
    assert ("expect_column_values_to_match_regex", "email_key") in failed
    assert ("expect_column_values_to_match_regex", "phone_key") in failed
    assert ("expect_column_values_to_be_unique", "identifier") in failed
    assert ("expect_column_values_to_match_regex", "sf_id") in failed
    assert set(summary.failing_row_ids) == {sf_id(1), sf_id(3), "003SHORT"}
    with pytest.raises(SuiteFailure) as raised:
        summary.raise_for_failure()
    assert raised.value.summary is summary


def test_missing_verdict_and_unicode_uppercase_are_caught(clean_frame) -> None:  # noqa: ANN001
    broken = clean_frame.copy()
    broken.loc[2, "email_key"] = "ÜNÏ@exämple.de"  # Unicode upper case passes the ASCII regex
    broken.loc[0, "verdict"] = None

    summary = validate_written(broken)

    failed = {(f["expectation"], f["column"]) for f in summary.failed_expectations}
    assert ("expect_column_pair_values_to_be_equal", "email_key,email_key_lower") in failed
    assert ("expect_column_values_to_not_be_null", "verdict") in failed


def test_summary_is_json_serialisable(clean_frame) -> None:  # noqa: ANN001
    import json

    assert json.loads(json.dumps(validate_written(clean_frame).as_dict()))["success"] is True


def test_low_cardinality_columns_are_categorical_and_still_checked(clean_frame) -> None:  # noqa: ANN001
    from great_expectations.execution_engine import pandas_execution_engine

    assert {str(clean_frame[c].dtype) for c in ("verdict", "phone_region", "bulk_rule")} == {"category"}
    threshold = pandas_execution_engine.HASH_THRESHOLD
    assert validate_written(clean_frame).success

    broken = clean_frame.copy()
    broken["verdict"] = broken["verdict"].cat.add_categories(["maybe"])
    broken.loc[broken.index[0], "verdict"] = "maybe"
    summary = validate_written(broken)

    assert not summary.success
    assert [item["expectation"] for item in summary.failed_expectations] == [
        "expect_column_values_to_be_in_set"
    ]
    assert summary.failing_row_ids == [broken.loc[broken.index[0], "sf_id"]]
    assert pandas_execution_engine.HASH_THRESHOLD == threshold  # the fingerprint skip is undone afterwards
