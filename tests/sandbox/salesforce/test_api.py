"""The stand-in over real HTTPS with plain ``requests``: OAuth, query paging, records, collections, limits,
faults, deleted/merge and Bulk 2.0 wire details."""

from __future__ import annotations

import datetime as dt
import time

import jwt
import pytest

from tests.sandbox.salesforce.helpers import contacts

pytestmark = pytest.mark.integration


def token_post(sf, **form):
    return sf.session().post(sf.url + "/services/oauth2/token", data=form, timeout=10)


# --- OAuth ------------------------------------------------------------------------------------------------


def test_client_credentials_in_body_and_basic(salesforce):
    body = token_post(
        salesforce,
        grant_type="client_credentials",
        client_id=salesforce.client_id,
        client_secret=salesforce.client_secret,
    )
    assert body.status_code == 200
    token = body.json()
    assert token["token_type"] == "Bearer" and token["instance_url"] == salesforce.url
    assert token["id"].startswith("https://login.salesforce.com/id/00D")
    assert token["issued_at"].isdigit() and token["signature"]
    basic = salesforce.session().post(
        salesforce.url + "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(salesforce.client_id, salesforce.client_secret),
    )
    assert basic.status_code == 200 and basic.json()["access_token"] != token["access_token"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"},
            "invalid_client_id",
        ),
        ({"grant_type": "client_credentials", "client_id": "ID", "client_secret": "wrong"}, "invalid_client"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({"grant_type": "refresh_token", "client_id": "ID", "refresh_token": "bogus"}, "invalid_grant"),
    ],
)
def test_token_errors(salesforce, form, error):
    form = {k: (salesforce.client_id if v == "ID" else v) for k, v in form.items()}
    response = token_post(salesforce, **form)
    assert response.status_code == 400
    assert response.json()["error"] == error and "error_description" in response.json()


def test_refresh_token_grant(salesforce):
    refresh = salesforce.issue_refresh_token()
    response = token_post(
        salesforce,
        grant_type="refresh_token",
        client_id=salesforce.client_id,
        client_secret=salesforce.client_secret,
        refresh_token=refresh,
    )
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    http = salesforce.session()
    http.headers["Authorization"] = "Bearer " + response.json()["access_token"]
    assert http.get(salesforce.base_url + "/sobjects").status_code == 200


def _assertion(sf, key=None, **claims):
    payload = {
        "iss": sf.client_id,
        "sub": sf.username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
    }
    payload.update(claims)
    return jwt.encode(payload, key or sf.jwt_key_file.read_bytes(), algorithm="RS256")


def test_jwt_bearer_grant(salesforce):
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    good = token_post(salesforce, grant_type=grant, assertion=_assertion(salesforce))
    assert good.status_code == 200 and good.json()["access_token"]

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cases = {
        "bad signature": (_assertion(salesforce, key=other_key), "invalid_grant"),
        "expired": (_assertion(salesforce, exp=int(time.time()) - 60), "invalid_grant"),
        "wrong audience": (_assertion(salesforce, aud="https://evil.example.com"), "invalid_grant"),
        "wrong issuer": (_assertion(salesforce, iss="someone-else"), "invalid_client_id"),
        "garbage": ("not-a-jwt", "invalid_grant"),
    }
    for name, (assertion, error) in cases.items():
        response = token_post(salesforce, grant_type=grant, assertion=assertion)
        assert response.status_code == 400, name
        assert response.json()["error"] == error, name


def test_session_expiry_answers_invalid_session_id(salesforce):
    http = salesforce.authenticated_session()
    assert http.get(salesforce.base_url + "/limits").status_code == 200
    assert salesforce.expire_sessions() >= 1
    response = http.get(salesforce.base_url + "/limits")
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    unauthenticated = salesforce.session().get(salesforce.base_url + "/sobjects")
    assert unauthenticated.status_code == 401


# --- versions, limits, faults -----------------------------------------------------------------------------


def test_versions_are_free_and_data_calls_count(salesforce):
    versions = salesforce.session().get(salesforce.url + "/services/data/")
    assert versions.status_code == 200
    assert {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"} in versions.json()
    http = salesforce.authenticated_session()
    first = http.get(salesforce.base_url + "/limits")
    second = http.get(salesforce.base_url + "/limits/")
    assert first.headers["Sforce-Limit-Info"] == f"api-usage=1/{salesforce.counters()['api_limit']}"
    assert second.headers["Sforce-Limit-Info"].startswith("api-usage=2/")
    assert second.json()["DailyApiRequests"]["Remaining"] == second.json()["DailyApiRequests"]["Max"] - 2
    counters = salesforce.counters()
    assert counters["api_usage"] == 2 and counters["calls"]["limits"] == 2
    assert http.get(salesforce.url + "/services/data/v99.0/limits").status_code == 404
    assert http.get(salesforce.url + "/services/data/v29.0/limits").status_code == 410


def test_daily_limit_exceeded(salesforce):
    http = salesforce.authenticated_session()
    salesforce.set_api_usage(used=9, limit=10)
    assert http.get(salesforce.base_url + "/sobjects").status_code == 200
    response = http.get(salesforce.base_url + "/sobjects")
    assert response.status_code == 403
    assert response.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert response.headers["Sforce-Limit-Info"] == "api-usage=10/10"


def test_fault_burst_latency_and_error_rate(salesforce):
    http = salesforce.authenticated_session()
    salesforce.set_faults(burst=2)
    statuses = [http.get(salesforce.base_url + "/limits").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    salesforce.set_faults(latency_ms=150)
    started = time.monotonic()
    http.get(salesforce.base_url + "/limits")
    assert time.monotonic() - started >= 0.15
    salesforce.set_faults(latency_ms=0, error_rate=1.0)
    failing = http.get(salesforce.base_url + "/limits")
    assert failing.status_code == 503 and failing.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    salesforce.reset()
    assert http.get(salesforce.base_url + "/limits").status_code == 200


# --- query ------------------------------------------------------------------------------------------------


def page_through(http, base, first_url, params=None, headers=None):
    response = http.get(first_url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    pages = [body]
    while not body["done"]:
        assert body["nextRecordsUrl"].startswith("/services/data/v")
        response = http.get(base + body["nextRecordsUrl"], headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
    return pages


def test_paging_with_shared_created_date_loses_nothing(salesforce):
    ids = salesforce.load_contacts(
        contacts(2600, step_seconds=0)
        + contacts(400, prefix="z", start=dt.datetime(2026, 10, 2, tzinfo=dt.UTC))
    )
    http = salesforce.authenticated_session()
    query = "SELECT Id, CreatedDate FROM Contact WHERE CreatedDate >= 2026-10-01T00:00:00Z ORDER BY CreatedDate, Id"
    pages = page_through(
        http,
        salesforce.url,
        salesforce.base_url + "/query",
        {"q": query},
        headers={"Sforce-Query-Options": "batchSize=500"},
    )
    seen = [r["Id"] for page in pages for r in page["records"]]
    assert [len(p["records"]) for p in pages] == [500] * 6
    assert len(seen) == len(set(seen)) == 3000 and set(seen) == set(ids)
    assert seen[:2600] == sorted(seen[:2600])  # ties on CreatedDate are ordered by Id
    created = [r["CreatedDate"] for page in pages for r in page["records"]]
    assert created == sorted(created)
    assert all(p["totalSize"] == 3000 for p in pages)


def test_default_page_size_and_ignored_params_on_next_page(salesforce):
    salesforce.load_contacts(contacts(2100))
    http = salesforce.authenticated_session()
    first = http.get(salesforce.base_url + "/query/", params={"q": "SELECT Id FROM Contact"}).json()
    assert len(first["records"]) == 2000 and not first["done"]
    second = http.get(salesforce.url + first["nextRecordsUrl"], params={"q": "SELECT Email FROM Lead"}).json()
    assert second["done"] and len(second["records"]) == 100 and "nextRecordsUrl" not in second
    assert set(second["records"][0]) == {"attributes", "Id"}
    bad = http.get(salesforce.base_url + "/query/01gXXXXXXXXXXXXXXX-2000")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    clamped = http.get(
        salesforce.base_url + "/query",
        params={"q": "SELECT Id FROM Contact"},
        headers={"Sforce-Query-Options": "batchSize=10"},
    ).json()
    assert len(clamped["records"]) == 200


def test_query_record_shape_and_query_all(salesforce):
    record = contacts(1)[0] | {
        "MailingCity": "Kuala Lumpur",
        "MailingCountryCode": "MY",
        "Birthdate": "1990-05-05",
    }
    (cid,) = salesforce.load_contacts([record])
    (gone,) = salesforce.load_contacts(contacts(1, prefix="gone"))
    salesforce.delete(gone)
    http = salesforce.authenticated_session()
    q = "SELECT Id, Name, MailingAddress, IsDeleted, CreatedDate, Birthdate FROM Contact"
    live = http.get(salesforce.base_url + "/query", params={"q": q}).json()
    assert live["totalSize"] == 1
    row = live["records"][0]
    assert row["attributes"] == {"type": "Contact", "url": f"/services/data/v62.0/sobjects/Contact/{cid}"}
    assert row["Name"] == "First0 cLast0" and row["IsDeleted"] is False
    assert row["CreatedDate"] == "2026-10-01T00:00:00.000+0000" and row["Birthdate"] == "1990-05-05"
    assert row["MailingAddress"]["city"] == "Kuala Lumpur" and row["MailingAddress"]["countryCode"] == "MY"
    every = http.get(salesforce.base_url + "/queryAll/", params={"q": q + " WHERE IsDeleted = true"}).json()
    assert [r["Id"] for r in every["records"]] == [gone] and every["records"][0]["IsDeleted"] is True
    count = http.get(salesforce.base_url + "/queryAll", params={"q": "SELECT COUNT() FROM Contact"}).json()
    assert count == {"totalSize": 2, "done": True, "records": []}
    short = http.get(
        salesforce.base_url + "/query", params={"q": "SELECT Id FROM Contact WHERE Id = '" + cid[:15] + "'"}
    )
    assert [r["Id"] for r in short.json()["records"]] == [cid]


def test_query_errors_over_http(salesforce):
    http = salesforce.authenticated_session()
    cases = {
        "SELECT Id FROM Contact WHERE": "MALFORMED_QUERY",
        "SELECT Nope FROM Contact": "INVALID_FIELD",
        "SELECT Id FROM Contact WHERE CreatedDate > '2026-01-01T00:00:00Z'": "INVALID_QUERY_FILTER_OPERATOR",
    }
    for q, code in cases.items():
        response = http.get(salesforce.base_url + "/query", params={"q": q})
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == code
        assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


# --- records ----------------------------------------------------------------------------------------------


def test_get_patch_delete_record(salesforce):
    (cid,) = salesforce.load_contacts(contacts(1))
    http = salesforce.authenticated_session()
    url = f"{salesforce.base_url}/sobjects/Contact/{cid}"
    before = http.get(url).json()
    assert before["Id"] == cid and before["SystemModstamp"] == "2026-10-01T00:00:00.000+0000"
    assert http.get(url.replace(cid, cid.lower())).json()["Id"] == cid  # 18-char ids are case-insensitive
    assert http.get(url[:-3]).json()["Id"] == cid  # 15-char id accepted

    patched = http.patch(url, json={"Email": "new@example.com", "FirstName": "Ana"})
    assert patched.status_code == 204 and patched.content == b""
    after = http.get(url, params={"fields": "Email,Name,SystemModstamp,LastModifiedDate"}).json()
    assert after["Email"] == "new@example.com" and after["Name"] == "Ana cLast0"
    assert (
        after["SystemModstamp"] > before["SystemModstamp"]
        and after["LastModifiedDate"] == after["SystemModstamp"]
    )

    errors = {
        "INVALID_FIELD": {"Nope": 1},
        "INVALID_FIELD_FOR_INSERT_UPDATE": {"CreatedDate": "2026-01-01T00:00:00.000+0000"},
        "INVALID_EMAIL_ADDRESS": {"Email": "not-an-email"},
        "STRING_TOO_LONG": {"FirstName": "x" * 41},
        "REQUIRED_FIELD_MISSING": {"LastName": None},
        "FIELD_INTEGRITY_EXCEPTION": {"MailingCountryCode": "XX"},
    }
    for code, body in errors.items():
        response = http.patch(url, json=body)
        assert response.status_code == 400, code
        assert response.json()[0]["errorCode"] == code

    missing = http.patch(
        f"{salesforce.base_url}/sobjects/Contact/003000000000001AAA", json={"Email": "a@b.co"}
    )
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"

    salesforce.lock(cid, times=1)
    locked = http.patch(url, json={"Title": "CEO"})
    assert locked.status_code == 400 and locked.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert http.patch(url, json={"Title": "CEO"}).status_code == 204

    assert http.delete(url).status_code == 204
    gone = http.get(url)
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "ENTITY_IS_DELETED"
    assert http.patch(url, json={"Title": "x"}).json()[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_create_record(salesforce):
    http = salesforce.authenticated_session()
    created = http.post(
        salesforce.base_url + "/sobjects/Contact/", json={"LastName": "Lee", "Email": "lee@x.io"}
    )
    assert created.status_code == 201 and created.json()["success"] is True
    new_id = created.json()["id"]
    assert new_id.startswith("003") and len(new_id) == 18
    missing = http.post(salesforce.base_url + "/sobjects/Contact/", json={"Email": "a@x.io"})
    assert missing.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_composite_update(salesforce):
    ok, bad, deleted = salesforce.load_contacts(contacts(3))
    salesforce.delete(deleted)
    http = salesforce.authenticated_session()
    url = salesforce.base_url + "/composite/sobjects"

    def rec(rid, **fields):
        return {"attributes": {"type": "Contact"}, "id": rid, **fields}

    records = [rec(ok, MobilePhone="+60121233112"), rec(bad, Email="broken"), rec(deleted, Title="x")]
    rolled = http.patch(url, json={"allOrNone": True, "records": records}).json()
    assert [r["success"] for r in rolled] == [False, False, False]
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert rolled[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert rolled[2]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert salesforce.record(ok)["MobilePhone"] != "+60121233112"

    partial = http.patch(url, json={"records": records})
    assert partial.status_code == 200
    body = partial.json()
    assert body[0] == {"id": ok, "success": True, "errors": []}
    assert body[1]["success"] is False and body[1]["errors"][0]["fields"] == ["Email"]
    assert salesforce.record(ok)["MobilePhone"] == "+60121233112"

    too_many = http.patch(url, json={"records": [rec(ok, Title="t")] * 201})
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


# --- deleted / updated / merge ----------------------------------------------------------------------------


def test_deleted_updated_and_merge(salesforce):
    master, loser, other = salesforce.load_contacts(contacts(3))
    now = dt.datetime.now(dt.UTC)
    salesforce.delete(other)
    merge = salesforce.merge(master, loser)
    assert merge["merged"] == [loser]
    http = salesforce.authenticated_session()
    start = (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    end = (now + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    deleted = http.get(
        f"{salesforce.base_url}/sobjects/Contact/deleted/", params={"start": start, "end": end}
    ).json()
    assert sorted(d["id"] for d in deleted["deletedRecords"]) == sorted([loser, other])
    assert all(d["deletedDate"].endswith("+0000") for d in deleted["deletedRecords"])
    loser_row = http.get(
        salesforce.base_url + "/queryAll",
        params={"q": f"SELECT Id, IsDeleted, MasterRecordId FROM Contact WHERE Id = '{loser}'"},
    ).json()["records"][0]
    assert loser_row["IsDeleted"] is True and loser_row["MasterRecordId"] == master
    updated = http.get(
        f"{salesforce.base_url}/sobjects/Contact/updated", params={"start": start, "end": end}
    ).json()
    assert updated["ids"] == [master]  # master's modstamp bumped; deleted records are not "updated"
    too_old = http.get(
        f"{salesforce.base_url}/sobjects/Contact/deleted/",
        params={"start": "2020-01-01T00:00:00+00:00", "end": end},
    )
    assert too_old.status_code == 400 and too_old.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_admin_edit_bumps_modstamp(salesforce):
    (cid,) = salesforce.load_contacts(contacts(1))
    stamp = salesforce.edit(cid, {"Email": "ui@example.com"})
    row = salesforce.record(cid)
    assert (
        row["Email"] == "ui@example.com" and row["SystemModstamp"] == stamp > "2026-10-01T00:00:00.000+0000"
    )
    salesforce.edit(cid, {"Title": "x"}, at="2026-10-05T10:00:00Z")
    assert salesforce.record(cid)["SystemModstamp"] == "2026-10-05T10:00:00.000+0000"


# --- Bulk API 2.0 wire ------------------------------------------------------------------------------------


def test_bulk_query_job_wire(salesforce):
    ids = salesforce.load_contacts(contacts(5))
    salesforce.delete(ids[0])
    http = salesforce.authenticated_session()
    jobs = salesforce.base_url + "/jobs/query"
    created = http.post(
        jobs,
        json={
            "operation": "queryAll",
            "query": "SELECT Id, Email, CreatedDate, IsDeleted, Title FROM Contact ORDER BY CreatedDate",
        },
    )
    assert created.status_code == 200 and created.json()["state"] == "UploadComplete"
    job_id = created.json()["id"]
    assert job_id.startswith("750")
    assert http.get(f"{jobs}/{job_id}").json()["state"] == "JobComplete"
    first = http.get(f"{jobs}/{job_id}/results", params={"maxRecords": 3})
    assert first.headers["Sforce-NumberOfRecords"] == "3" and first.headers["Sforce-Locator"] != "null"
    lines = first.text.splitlines()
    assert lines[0] == '"Id","Email","CreatedDate","IsDeleted","Title"'
    assert lines[1] == f'"{ids[0]}","c0@example.com","2026-10-01T00:00:00.000Z","true",""'
    rest = http.get(
        f"{jobs}/{job_id}/results", params={"maxRecords": 3, "locator": first.headers["Sforce-Locator"]}
    )
    assert rest.headers["Sforce-NumberOfRecords"] == "2" and rest.headers["Sforce-Locator"] == "null"
    assert http.patch(f"{jobs}/{job_id}", json={"state": "Aborted"}).status_code == 400  # already complete
    assert http.delete(f"{jobs}/{job_id}").status_code == 204
    assert http.get(f"{jobs}/{job_id}").status_code == 404
    compound = http.post(
        jobs, json={"operation": "query", "query": "SELECT MailingAddress FROM Contact"}
    ).json()
    state = http.get(f"{jobs}/{compound['id']}").json()
    assert state["state"] == "Failed" and "compound" in state["errorMessage"]


def test_admin_load_from_jsonl_and_csv_files(salesforce, tmp_path):
    jsonl = tmp_path / "contacts.jsonl"
    jsonl.write_text(
        '{"Id": "0035g00000ABCDE", "LastName": "Tan", "MailingAddress": {"city": "Ipoh"}, '
        '"CreatedDate": "2026-10-01T08:00:00+08:00", "Name": "ignored"}\n'
    )
    table = tmp_path / "contacts.csv"
    table.write_text("LastName,Email,CreatedDate,IsDeleted\nLim,,2026-10-02T00:00:00Z,true\n")
    assert salesforce.load_file(str(jsonl)) == 1
    assert salesforce.load_file(str(table)) == 1
    row = salesforce.record("0035g00000ABCDE")
    assert row["Id"] == "0035g00000ABCDEAA5"  # 15-char ids get the real checksum suffix
    assert salesforce.record("0035G00000abcdeaa5")["Id"] == row["Id"]  # 18-char ids are case-insensitive
    assert row["MailingCity"] == "Ipoh" and row["Name"] == "Tan"
    assert row["CreatedDate"] == "2026-10-01T00:00:00.000+0000" == row["SystemModstamp"]
    http = salesforce.authenticated_session()
    everything = http.get(
        salesforce.base_url + "/queryAll",
        params={"q": "SELECT LastName, Email, IsDeleted FROM Contact ORDER BY LastName"},
    )
    assert [(r["LastName"], r["Email"], r["IsDeleted"]) for r in everything.json()["records"]] == [
        ("Lim", None, True),
        ("Tan", None, False),
    ]
