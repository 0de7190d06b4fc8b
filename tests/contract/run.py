#!/usr/bin/env python3
"""Contract fuzzing: Schemathesis against the OpenAPI document the local stack serves.

Starts `onboarding-local` on free ports, mints a contractor's and a reviewer's token from
the stack's issuer, runs every phase (examples, coverage, fuzzing, stateful) with every
check for a bounded time, and prints what it generated and found. Exit status: 0 only when
nothing failed. Usage:
  run.py STACK_BINARY [--max-time SECONDS] [--seed N]
"""

import argparse
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"the stack did not serve {url} within {limit:.0f} s")


def token(base: str, sub: str, **claims) -> str:
    body = json.dumps({"sub": sub, **claims}).encode()
    req = urllib.request.Request(f"{base}/_local/token", data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)["access_token"]


def main() -> int:
    args = argparse.ArgumentParser()
    args.add_argument("stack")
    args.add_argument("--max-time", type=int, default=120)
    args.add_argument("--seed", type=int, help="replay a run; a fresh seed each run without it")
    opts = args.parse_args()

    port, ws_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    work = pathlib.Path(tempfile.mkdtemp(prefix="contract-"))
    stack_log = open(work / "stack.log", "w")
    env = dict(os.environ, PORT=str(port), WS_PORT=str(ws_port), RUST_LOG="warn")
    stack = subprocess.Popen([opts.stack], cwd=ROOT, env=env, stdout=stack_log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        wait_for(f"{base}/v1/openapi.json", 180)
        run = f"{time.time_ns():x}"
        env = dict(
            os.environ,
            CONTRACT_BASE_URL=base,
            CONTRACT_CONTRACTOR_TOKEN=token(base, f"auth0|contract-default-{run}"),
            CONTRACT_REVIEWER_TOKEN=token(base, f"auth0|contract-reviewer-{run}", roles=["reviewer"]),
            SCHEMATHESIS_HOOKS="hooks",
            PYTHONPATH=str(HERE),
        )
        report = work / "report.json"
        cmd = [
            str(pathlib.Path(sys.executable).with_name("st")),
            "--config-file", str(HERE / "schemathesis.toml"),
            "--no-color",
            "run", f"{base}/v1/openapi.json",
            "--max-time", str(opts.max_time),
            "--report", "json", "--report-json-path", str(report),
        ]
        if opts.seed is not None:
            cmd += ["--seed", str(opts.seed)]
        started = time.monotonic()
        # In the run's own folder: Schemathesis keeps its example cache beside it.
        status = subprocess.call(cmd, env=env, cwd=work)
        took = time.monotonic() - started
        summary = summarize(report)
        print(f"contract fuzzing: {summary} in {took:.0f} s; exit {status} (stack log: {work / 'stack.log'})")
        return status
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        try:
            stack.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)


def summarize(report: pathlib.Path) -> str:
    try:
        data = json.loads(report.read_text())
        cases, ops = data["test_cases"], data["operations"]
        phases = ", ".join(f"{name} {p['status']}" for name, p in data["phases"].items())
        return (f"{cases['generated']} cases generated, {cases['unique_failures']} failures, "
                f"{ops['tested']}/{ops['total']} operations ({phases})")
    except (OSError, ValueError, KeyError, TypeError):
        return "no readable report"


if __name__ == "__main__":
    sys.exit(main())
