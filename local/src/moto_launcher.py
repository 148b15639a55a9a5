"""The embedded AWS emulator: moto in server mode on 127.0.0.1 and a port the OS picks.

Started by `local/src/emulator.rs`, which reads the "PORT <n>" line this prints once it listens.
It dies with its parent. Where filegate relies on DynamoDB behaviour that moto lacks, this
launcher adds it:

- requests are atomic: moto checks conditions and writes without a lock, so two racing
  transactions could both pass their conditions; DynamoDB requests apply one at a time here
  (S3 and SQS stay concurrent);
- transactions conflict: one that touches an item of a transaction still in flight is
  cancelled with `TransactionConflict`, and a single-item write of such an item is
  `TransactionConflictException`, as in DynamoDB (serialized, moto never showed either);
- a cancelled transaction rolls back the items it touched. moto deep-copies every table a
  transaction names as its rollback snapshot, so each write cost time and memory in
  proportion to the whole table;
- SQS counts a queue's messages at most once a second (moto walked them all for every
  message sent or received, so a backlog slowed every request);
- `TransactWriteItems` honours `ClientRequestToken` as DynamoDB does: the same request sent
  again with the same token within 10 minutes succeeds without being applied again, and the
  token with a different request is `IdempotentParameterMismatchException`;
- S3's ListParts answers with the root element `ListPartsResult`, as S3 does (moto 5.2 writes
  `ListPartsResponse`, which the AWS SDK for Rust refuses to parse).

It also counts the requests it serves, by service and operation (`GET /_filegate/requests`;
ranged GetObjects also as `s3.GetObject.ranged`), for the load benchmark's cost model and the
CLI's resume tests; and throttles DynamoDB on request, for fault tests
(`POST /_filegate/throttle` with `{"table": name, "requests": n}`: the next n requests that
touch that table get `ProvisionedThroughputExceededException`, as DynamoDB answers them).
"""

import collections
import copy
import hashlib
import io
import json
import os
import urllib.parse
import threading
import time

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.sqs.models import Queue as SqsQueue
from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    DynamodbException,
    TransactionCanceledException,
)
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


# --- Transactions roll back what they touched ------------------------------------------------


class _TablesAreNotCopied:
    """The `copy` module as moto's DynamoDB backend sees it, except that tables are not
    deep-copied: `transact_write_items` below snapshots the touched items instead."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


dynamodb_models.copy = _TablesAreNotCopied()
_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _item_key(table, op):
    """(hash, range) of the item an operation of a transaction touches, or None when the
    operation names no full key (moto then refuses it before writing anything)."""
    attrs = op.get("Key") or op.get("Item") or {}
    hash_value = attrs.get(table.hash_key_attr)
    if hash_value is None:
        return None
    if table.range_key_attr is None:
        return DynamoType(hash_value), None
    range_value = attrs.get(table.range_key_attr)
    if range_value is None:
        return None
    return DynamoType(hash_value), DynamoType(range_value)


def _restore(table, hash_value, range_value, before):
    if before is None:
        table.delete_item(hash_value, range_value)
    elif range_value is None:
        table.items[hash_value] = before
    else:
        table.items[hash_value][range_value] = before


def _item_id(table, op):
    """What identifies the item an operation touches, across tables; None when the
    operation names no table moto knows or no full key (moto then refuses it)."""
    key = _item_key(table, op) if table is not None else None
    if key is None:
        return None
    return table.name, str(key[0].value), None if key[1] is None else str(key[1].value)


# The items of the transactions in flight, from the moment one arrives until it has applied
# or been cancelled: DynamoDB cancels a transaction that touches one of them with
# `TransactionConflict`, and refuses a PutItem, UpdateItem or DeleteItem of one with
# `TransactionConflictException`. moto applies requests one at a time, so without this a hot
# item (a busy folder's row) never shows the conflicts it has in AWS.
_ongoing = set()
_ongoing_lock = threading.Lock()
_applying = threading.local()
# How long a transaction stays in flight before it applies, besides the wait for its turn:
# DynamoDB's own take some milliseconds. `FILEGATE_EMULATOR_TRANSACTION_MS`, or
# `POST /_filegate/transactions {"hold_ms": n}`.
transaction_hold = {"seconds": float(os.environ.get("FILEGATE_EMULATOR_TRANSACTION_MS") or 0) / 1000}


class TransactionConflictException(DynamodbException):
    def __init__(self):
        super().__init__(
            ERROR_TYPE_PREFIX + "TransactionConflictException",
            "Transaction is ongoing for the item",
        )


def transact_write_items(self, transact_items):
    ops = [op for entry in transact_items for op in entry.values() if isinstance(op, dict)]
    with dynamodb:
        ids = [_item_id(self.tables.get(op.get("TableName")), op) for op in ops]
    with _ongoing_lock:
        busy = [i is not None and i in _ongoing for i in ids]
        if any(busy):
            count("dynamodb.TransactWriteItems.conflicts")
            raise TransactionCanceledException(
                [
                    ("TransactionConflict", "Transaction is ongoing for the item", None)
                    if b
                    else (None, None, None)
                    for b in busy
                ]
            )
        mine = {i for i in ids if i is not None}
        _ongoing.update(mine)
    try:
        if transaction_hold["seconds"]:
            time.sleep(transaction_hold["seconds"])
        with dynamodb:
            _applying.active = True
            try:
                touched = []
                for op, i in zip(ops, ids):
                    if i is not None:
                        table = self.tables[op["TableName"]]
                        key = _item_key(table, op)
                        touched.append((table, *key, copy.deepcopy(table.get_item(*key))))
                try:
                    return _moto_transact_write_items(self, transact_items)
                except BaseException:
                    for table, hash_value, range_value, before in reversed(touched):
                        _restore(table, hash_value, range_value, before)
                    raise
            finally:
                _applying.active = False
    finally:
        with _ongoing_lock:
            _ongoing.difference_update(mine)


def _refused_while_in_a_transaction(write):
    """A single-item write, refused while a transaction in flight holds its item (moto's own
    transactions apply through these methods, and are let through)."""

    def checked(self, table_name, key_or_item, *args, **kwargs):
        if not getattr(_applying, "active", False):
            table = self.tables.get(table_name)
            i = _item_id(table, {"Key": key_or_item})
            with _ongoing_lock:
                if i is not None and i in _ongoing:
                    raise TransactionConflictException()
        return write(self, table_name, key_or_item, *args, **kwargs)

    return checked


for _write in ("put_item", "update_item", "delete_item"):
    setattr(
        DynamoDBBackend,
        _write,
        _refused_while_in_a_transaction(getattr(DynamoDBBackend, _write)),
    )


DynamoDBBackend.transact_write_items = transact_write_items


# --- SQS costs what a request touches -------------------------------------------------------


def _approximately(count):
    """moto counts a queue's messages by walking every one, and reads all of a queue's
    attributes, these counts among them, for each message it sends or receives: each SQS
    request cost time in proportion to the messages queued, so a poller that fell behind
    slowed every S3 upload (each sends an event). SQS's own counts are approximate and lag;
    these are counted again at most once a second."""

    def recounted(queue):
        seen = queue.__dict__.setdefault("_filegate_counts", {})
        now = time.monotonic()
        last = seen.get(count.__name__)
        if last is None or now - last[0] > 1:
            last = seen[count.__name__] = (now, count(queue))
        return last[1]

    return property(recounted)


for _count in (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
):
    setattr(SqsQueue, _count, _approximately(getattr(SqsQueue, _count).fget))


# --- The server ------------------------------------------------------------------------------

moto = DomainDispatcherApplication(create_backend_app)
dynamodb = threading.Lock()

TOKEN_LIFETIME_SECONDS = 600
# token -> (expires at, digest of the request without its token, status, headers, body)
succeeded_tokens = {}


def json_error(start_response, code, message):
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
    start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
    return [body.encode()]


def request_body(environ):
    """The request's body parsed as JSON (None when it is not JSON), left readable for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        return json.loads(body)
    except ValueError:
        return None


# Tokens of transactions being applied: the same token again meanwhile is
# TransactionInProgressException (which the SDKs retry), as in DynamoDB.
tokens_in_progress = set()
tokens_lock = threading.Lock()


def transact_write_items(environ, start_response):
    """A transaction with a ClientRequestToken: its first success is remembered, and the
    same request with the same token is answered as it was instead of being applied again."""
    request = request_body(environ)
    token = request.pop("ClientRequestToken", None) if isinstance(request, dict) else None
    items = request.get("TransactItems") if isinstance(request, dict) else None
    count("dynamodb.TransactWriteItems.items", len(items or []))
    if not token:
        return list(moto(environ, start_response))
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    with tokens_lock:
        now = time.monotonic()
        for old in [t for t, seen in succeeded_tokens.items() if seen[0] < now]:
            del succeeded_tokens[old]
        seen = succeeded_tokens.get(token)
        if seen is not None and seen[1] != digest:
            return json_error(
                start_response,
                "IdempotentParameterMismatchException",
                "The request uses the same client token as a previous, but non-identical request.",
            )
        if seen is not None:
            start_response(seen[2], seen[3])
            return [seen[4]]
        if token in tokens_in_progress:
            return json_error(
                start_response,
                "TransactionInProgressException",
                "The transaction with the given request token is already in progress.",
            )
        tokens_in_progress.add(token)
    answered = {}

    def remember(status, headers, exc_info=None):
        answered["status"], answered["headers"] = status, list(headers)
        return start_response(status, headers, exc_info)

    chunks = []
    try:
        chunks = list(moto(environ, remember))
    finally:
        with tokens_lock:
            tokens_in_progress.discard(token)
            if answered.get("status", "").startswith("200"):
                succeeded_tokens[token] = (
                    now + TOKEN_LIFETIME_SECONDS,
                    digest,
                    answered["status"],
                    answered["headers"],
                    b"".join(chunks),
                )
    return chunks


requests_served = collections.Counter()
requests_lock = threading.Lock()


def count(name, n=1):
    with requests_lock:
        requests_served[name] += n

S3_SUBRESOURCES = ("tagging", "uploads", "uploadId", "partNumber", "list-type", "cors")


def operation(environ):
    """`service.Operation` of a request, as AWS bills it."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDB_"):
        return "dynamodb." + target.split(".", 1)[-1]
    if target.startswith("AmazonSQS."):
        return "sqs." + target.split(".", 1)[-1]
    method = environ.get("REQUEST_METHOD", "GET")
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    resource = next((r for r in S3_SUBRESOURCES if r in query), "")
    names = {
        ("PUT", ""): "PutObject",
        ("GET", ""): "GetObject",
        ("HEAD", ""): "HeadObject",
        ("DELETE", ""): "DeleteObject",
        ("PUT", "tagging"): "PutObjectTagging",
        ("GET", "tagging"): "GetObjectTagging",
        ("DELETE", "tagging"): "DeleteObjectTagging",
        ("GET", "list-type"): "ListObjectsV2",
        ("POST", "uploads"): "CreateMultipartUpload",
        ("PUT", "uploadId"): "UploadPart",
        ("GET", "uploadId"): "ListParts",
        ("POST", "uploadId"): "CompleteMultipartUpload",
        ("DELETE", "uploadId"): "AbortMultipartUpload",
        ("GET", "uploads"): "ListMultipartUploads",
    }
    return "s3." + names.get((method, resource), f"{method} ?{resource}")


# table name -> DynamoDB requests still to throttle
throttled_tables = {}


def tables_named(request):
    """The tables a DynamoDB request names (a transaction names them per item)."""
    if not isinstance(request, dict):
        return set()
    names = {request.get("TableName")}
    for entry in request.get("TransactItems") or []:
        for op in entry.values() if isinstance(entry, dict) else []:
            if isinstance(op, dict):
                names.add(op.get("TableName"))
    return names - {None}


def throttle(environ, start_response):
    """Answers a DynamoDB request as throttled if it names a table being throttled."""
    if not throttled_tables:
        return None
    request = request_body(environ)
    with requests_lock:
        hit = next((t for t in tables_named(request) if throttled_tables.get(t, 0) > 0), None)
        if hit is None:
            return None
        throttled_tables[hit] -= 1
    return json_error(
        start_response,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    )


def counted(environ, start_response):
    path = environ.get("PATH_INFO")
    if path == "/_filegate/requests":
        with requests_lock:
            body = json.dumps(dict(requests_served)).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    if path == "/_filegate/throttle" and environ.get("REQUEST_METHOD") == "POST":
        order = request_body(environ)
        with requests_lock:
            throttled_tables[order["table"]] = int(order["requests"])
        start_response("204 No Content", [])
        return []
    if path == "/_filegate/transactions" and environ.get("REQUEST_METHOD") == "POST":
        transaction_hold["seconds"] = int(request_body(environ)["hold_ms"]) / 1000
        start_response("204 No Content", [])
        return []
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
        refused = throttle(environ, start_response)
        if refused is not None:
            return refused
    served = operation(environ)
    count(served)
    # Ranged reads counted apart too: a client's resumed download shows as one.
    if served == "s3.GetObject" and environ.get("HTTP_RANGE"):
        count("s3.GetObject.ranged")
    return app(environ, start_response)


def is_list_parts(environ):
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return environ.get("REQUEST_METHOD") == "GET" and "uploadId" in query and "partNumber" not in query


def list_parts(environ, start_response):
    """ListParts with S3's root element (see the module's docstring)."""
    answered = {}

    def capture(status, headers, exc_info=None):
        answered["status"], answered["headers"] = status, headers
        return lambda _data: None

    body = b"".join(moto(environ, capture))
    body = body.replace(b"<ListPartsResponse", b"<ListPartsResult", 1)
    body = body.replace(b"</ListPartsResponse>", b"</ListPartsResult>", 1)
    headers = [
        (name, str(len(body)) if name.lower() == "content-length" else value)
        for name, value in answered["headers"]
    ]
    start_response(answered["status"], headers)
    return [body]


def app(environ, start_response):
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not target and is_list_parts(environ):
        return list_parts(environ, start_response)
    if target.endswith(".TransactWriteItems"):
        # Takes the DynamoDB lock itself, once its items are in flight.
        return transact_write_items(environ, start_response)
    if target.startswith("DynamoDB"):
        with dynamodb:
            return list(moto(environ, start_response))
    return moto(environ, start_response)


def die_with_parent():
    """Exits within half a second of its parent, however the parent died (SIGKILL included).
    (Not PR_SET_PDEATHSIG: it fires when the parent *thread* that started us ends, and the
    tests start the emulator from a test's thread.)"""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        # Not sys.exit: request threads still running must not keep the process alive.
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


die_with_parent()
# moto builds a service's app (importing its backend) on its first request, which on a busy
# machine can take seconds: build them now, before anyone is told the port.
for service in ("s3", "dynamodb", "sqs"):
    moto.app_instances[service] = moto.create_app(service)
server = make_server("127.0.0.1", 0, counted, threaded=True, request_handler=MotoRequestHandler)
print("PORT", server.server_port, flush=True)
server.serve_forever()
