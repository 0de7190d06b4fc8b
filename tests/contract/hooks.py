"""Schemathesis hooks: the API's callers as they really are.

- Each registration is a new person: POST /v1/contractors gets a token for a fresh login, and
  the account it creates is then called with its owner's token, so stateful chains (register
  -> save a step -> upload -> submit) reach the owner's paths instead of 404.
- The reviewers' operations are called with a reviewer's token.
- A well-formed Idempotency-Key is made fresh for each request, as a client makes one per
  change; reusing one for another body is a client error the API rightly refuses (422).

Credentials go through Schemathesis's auth provider, so its own checks still remove or spoil
them where they probe (missing Authorization must be 401, a bad token must not pass).
"""

import os
import re
import threading
import uuid

import requests
import schemathesis

BASE = os.environ["CONTRACT_BASE_URL"]
DEFAULT = "Bearer " + os.environ["CONTRACT_CONTRACTOR_TOKEN"]
REVIEWER = "Bearer " + os.environ["CONTRACT_REVIEWER_TOKEN"]

KEY = re.compile(r"^[!-~]{1,255}$")
# Operation paths (templates) only reviewers call.
REVIEWER_PATHS = (
    re.compile(r"^/v1/reviews$"),
    re.compile(r"^/v1/contractors/\{id\}/requirements/\{name\}/(claim|decision)$"),
    re.compile(r"^/v1/contractors/\{id\}/reject$"),
)

_owners: dict[str, str] = {}
_lock = threading.Lock()
_session = requests.Session()


def _mint(sub: str) -> str:
    resp = _session.post(f"{BASE}/_local/token", json={"sub": sub}, timeout=10)
    resp.raise_for_status()
    return "Bearer " + resp.json()["access_token"]




@schemathesis.auth(refresh_interval=None)
class Callers:
    """Who calls each operation: schemathesis applies this as explicit credentials, and
    removes them itself where a check probes a request without (or with bad) ones."""

    def get(self, case, context):
        path, method = context.operation.path, case.method.upper()
        if method == "POST" and path == "/v1/contractors":
            return _mint(f"auth0|contract-{uuid.uuid4().hex}")
        if (method == "GET" and path == "/v1/contractors") or any(p.match(path) for p in REVIEWER_PATHS):
            return REVIEWER
        if path.startswith("/v1/contractors/{id}"):
            owned = (case.path_parameters or {}).get("id")
            with _lock:
                owner = _owners.get(owned) if isinstance(owned, str) else None
            if owner is not None:
                return owner
        return DEFAULT

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    if headers is None:
        return
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and KEY.match(key):
        headers["Idempotency-Key"] = str(uuid.uuid4())
    # A stateful step's contractor id comes from a link after the credentials were chosen:
    # call an account the run registered as its owner.
    if headers.get("Authorization") == DEFAULT and case.operation.path.startswith("/v1/contractors/{id}"):
        owned = (case.path_parameters or {}).get("id")
        with _lock:
            owner = _owners.get(owned) if isinstance(owned, str) else None
        if owner is not None:
            headers["Authorization"] = owner


@schemathesis.hook
def after_call(context, case, response):
    if case.method.upper() != "POST" or case.operation.path != "/v1/contractors" or response.status_code != 201:
        return
    try:
        created = response.json()["id"]
    except (ValueError, KeyError, TypeError):
        return
    with _lock:
        _owners[created] = case.headers.get("Authorization")
