"""moto's server, with DynamoDB made serializable.

moto runs requests on threads. Its TransactWriteItems snapshots the tables it touches and,
when a condition fails, restores that snapshot: a transaction that fails while another
commits can wipe out the other's write. DynamoDB never does that. Holding one lock around
every DynamoDB operation restores DynamoDB's guarantee (each operation is atomic and
serializable) without slowing other services (SQS long polls run in parallel as before).
"""

import functools
import sys
import threading

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


for name in OPERATIONS:
    if hasattr(DynamoDBBackend, name):
        setattr(DynamoDBBackend, name, _serialized(getattr(DynamoDBBackend, name)))

if __name__ == "__main__":
    sys.exit(main())
