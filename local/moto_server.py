"""moto's server, with DynamoDB made serializable and its transactions cheap.

moto runs requests on threads. Its TransactWriteItems deep-copies every table it touches
and, when a condition fails, restores that copy: a transaction that fails while another
commits can wipe out the other's write, and every transaction costs time proportional to
the table's size. DynamoDB has neither property. So:
- one lock around every DynamoDB operation makes each atomic and serializable, as on AWS
  (other services, such as SQS long polls, still run in parallel);
- transactions made of Put, Delete and ConditionCheck (all ours) check every condition
  first, then apply, undoing the applied items if applying fails: atomic without a copy.
  Anything else goes to moto's own implementation.
"""

import functools
import sys
import threading

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_LOCK = threading.RLock()

OPERATIONS = [
    "create_table", "delete_table", "update_table", "describe_table",
    "put_item", "get_item", "update_item", "delete_item", "query", "scan",
    "batch_write_item", "batch_get_item", "transact_write_items", "transact_get_items",
    "update_time_to_live",
]


def _serialized(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _LOCK:
            return fn(*args, **kwargs)

    return wrapper


_moto_transact = DynamoDBBackend.transact_write_items


def _key_of(backend, op_type, op):
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def transact_write_items(self, transact_items):
    ops = [next(iter(item.items())) for item in transact_items]
    keys = set()
    simple = 0 < len(ops) <= 100 and all(len(item) == 1 for item in transact_items)
    for op_type, op in ops if simple else []:
        if op_type not in ("Put", "Delete", "ConditionCheck"):
            simple = False
            break
        ident = (op["TableName"], str(sorted(_key_of(self, op_type, op).items())))
        if ident in keys:
            simple = False
            break
        keys.add(ident)
    if not simple:
        return _moto_transact(self, transact_items)

    # Phase 1: every condition against the current state; nothing written yet.
    errors = []
    for op_type, op in ops:
        condition = op.get("ConditionExpression")
        if condition is not None:
            current = self.get_item(op["TableName"], _key_of(self, op_type, op))
            check = get_filter_expression(condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
            if not check.expr(current):
                errors.append(("ConditionalCheckFailed", "The conditional request failed", None))
                continue
        errors.append((None, None, None))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    # Phase 2: apply, keeping what each item was so a failure can be undone.
    undo = []
    try:
        for op_type, op in ops:
            if op_type == "ConditionCheck":
                continue
            key = _key_of(self, op_type, op)
            before = self.get_item(op["TableName"], key)
            undo.append((op["TableName"], key, before.to_json()["Attributes"] if before else None))
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"])
            else:
                self.delete_item(op["TableName"], key)
    except Exception:
        for table_name, key, old in reversed(undo):
            if old is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, old)
        raise


DynamoDBBackend.transact_write_items = transact_write_items

for name in OPERATIONS:
    if hasattr(DynamoDBBackend, name):
        setattr(DynamoDBBackend, name, _serialized(getattr(DynamoDBBackend, name)))

if __name__ == "__main__":
    sys.exit(main())
