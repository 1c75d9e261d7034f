"""Unit tests of Salesforce ids and the local certificate authority."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from sandbox.certs import ensure_certificates
from sandbox.salesforce import ids, timefmt


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        ("0015000000IZzSY", "0015000000IZzSYAA1"),
        ("003000000000000", "003000000000000AAA"),
        ("00Q5g00000ABCDE", "00Q5g00000ABCDEEA5"),
    ],
)
def test_checksum_and_normalisation(id15, id18):
    assert ids.to18(id15) == id18
    assert ids.to18(id18.lower()) == id18
    assert ids.to18(id18.upper()) == id18


@pytest.mark.parametrize("bad", ["", "003", "0035g00000ABCDE!", "0035g00000ABCDEfgh", "x" * 19])
def test_malformed_ids(bad):
    assert ids.to18(bad) is None


def test_generated_ids_have_prefix_and_valid_suffix():
    generated = ids.make_id("003", 123456)
    assert generated.startswith("003") and len(generated) == 18 and ids.to18(generated[:15]) == generated


def test_datetime_formats():
    parsed = timefmt.parse("2026-10-01T08:00:00.1234+08:00")
    assert timefmt.fmt(parsed) == "2026-10-01T00:00:00.123+0000"
    assert timefmt.canonical("2026-10-01T00:00:00Z") == "2026-10-01T00:00:00.000+0000"
    assert timefmt.canonical("2026-10-01T00:00:00.000+0000") == "2026-10-01T00:00:00.000+0000"
    assert timefmt.to_bulk("2026-10-01T00:00:00.000+0000") == "2026-10-01T00:00:00.000Z"
    with pytest.raises(ValueError):
        timefmt.parse("yesterday")


def test_certificates_are_created_once_and_verify(tmp_path):
    first = ensure_certificates(tmp_path / "certs")
    stamp = Path(first.cert_file).stat().st_mtime_ns
    second = ensure_certificates(tmp_path / "certs")
    assert second == first and Path(second.cert_file).stat().st_mtime_ns == stamp
    assert oct(Path(first.key_file).stat().st_mode & 0o777) == "0o600"
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(first.cert_file, first.key_file)  # key matches cert
    client = ssl.create_default_context(cafile=first.ca_file)
    assert client.cert_store_stats()["x509_ca"] == 1
