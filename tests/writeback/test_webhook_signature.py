"""The product's webhook signature check agrees with the respond.io stand-in's signer (kept apart on purpose)."""

from __future__ import annotations

from contact_sync.webhook_signature import SIGNATURE_HEADER, sign, verify
from sandbox.respond_io import webhooks as standin


def test_signatures_agree_with_the_standin():
    body = '{"event_type":"contact.updated","contact":{"id":1,"firstName":"Zoë"}}'.encode()

    assert sign("key-1", body) == standin.sign("key-1", body)
    assert verify("key-1", body, standin.sign("key-1", body))
    assert SIGNATURE_HEADER == standin.SIGNATURE_HEADER


def test_wrong_key_tampered_body_or_missing_header_fail():
    body = b'{"event_type":"contact.updated"}'
    good = sign("key-1", body)

    assert not verify("key-2", body, good)
    assert not verify("key-1", body + b" ", good)
    assert not verify("key-1", body, None)
    assert not verify("", body, good)
