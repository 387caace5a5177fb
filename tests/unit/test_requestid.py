import uuid

from sidecar.server.requestid import request_id_from, uuid7


def test_uuid7_is_version_7_and_time_sortable() -> None:
    ids = [uuid7() for _ in range(200)]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert len(set(ids)) == 200
    # The first 48 bits are milliseconds: ordering by string follows time up to the same millisecond.
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)


def test_valid_caller_id_is_kept_and_invalid_replaced() -> None:
    assert request_id_from([("x-request-id", "abc-123.4")]) == "abc-123.4"
    for bad in ("", "has space", "x" * 200, "<script>"):
        generated = request_id_from([("x-request-id", bad)])
        assert generated != bad and uuid.UUID(generated).version == 7
    assert uuid.UUID(request_id_from(None)).version == 7
