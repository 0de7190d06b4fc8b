#!/usr/bin/env python3
"""Cold-start probe: runs a function binary against a mock Lambda Runtime API and reports
the time from process start to its first `GET /runtime/invocation/next` (its init: tracing,
config, SDK clients) and its resident memory then. Usage:
  scripts/coldstart.py BINARY [RUNS]        (the environment is a function's, see below)
"""
import http.server
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

binary = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
first_next = threading.Event()


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the Runtime API's verb)
        if self.path.endswith("/invocation/next"):
            first_next.set()
            time.sleep(5)  # hold the long poll; the probe kills the process first
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
threading.Thread(target=server.serve_forever, daemon=True).start()
env = dict(os.environ)
env.update({
    "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
    "AWS_LAMBDA_FUNCTION_NAME": os.path.basename(binary),
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "probe",
    "AWS_SECRET_ACCESS_KEY": "probe",
    "TABLE_NAME": "OnboardingTable",
    "EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:EventsTopic",
    "FIELD_ENCRYPTION_KEY_ID": "probe-key",
    "TERMS_VERSION": "2026-09",
    "PRIVACY_VERSION": "2026-09",
    "DOCUMENTS_BUCKET": "probe-bucket",
    "RUST_LOG": "warn",
})
inits, rss = [], []
for _ in range(runs):
    first_next.clear()
    start = time.monotonic()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not first_next.wait(10):
        proc.kill()
        sys.exit(f"{binary} never asked for an invocation")
    inits.append((time.monotonic() - start) * 1000)
    with open(f"/proc/{proc.pid}/status") as f:
        rss.append(next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024)
    proc.kill()
    proc.wait()
print(f"{os.path.basename(binary)}: init median {statistics.median(inits):.1f} ms "
      f"(min {min(inits):.1f}, max {max(inits):.1f}, {runs} runs), RSS {statistics.median(rss):.1f} MB")
