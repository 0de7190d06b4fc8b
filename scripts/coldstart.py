#!/usr/bin/env python3
"""Cold-start probe: runs a function against a mock Lambda Runtime API and reports the time
from process start to its first `GET /runtime/invocation/next` (its init: tracing, config,
SDK clients) and its resident memory then.

  scripts/coldstart.py BINARY [RUNS]
      one binary, with a generic environment
  scripts/coldstart.py --table --template template.yaml --bin-dir DIR --hello BIN
                       --node DIR [--runs N] FUNCTION...
      every FUNCTION (a binary name in DIR), each with its own environment from the
      template, beside the bare lambda_runtime hello and the Node.js handler in DIR: init,
      ratios, memory, binary and zip sizes (make bench-coldstart)

AWS calls made at init go to a closed local port and fail at once: a function that needs one
to start is reported as such, not measured.
"""
import argparse
import http.server
import io
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import zipfile

FIRST_NEXT = threading.Event()


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the Runtime API's verb)
        if self.path.endswith("/invocation/next"):
            FIRST_NEXT.set()
            time.sleep(5)  # hold the long poll; the probe kills the process first
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(runtime_api: str, name: str) -> dict:
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "probe",
        "AWS_SECRET_ACCESS_KEY": "probe",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}",
        "RUST_LOG": "warn",
    })
    return env


GENERIC = {
    "STAGE": "dev",
    "TABLE_NAME": "OnboardingTable",
    "EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:EventsTopic",
    "FIELD_ENCRYPTION_KEY_ID": "probe-key",
    "TERMS_VERSION": "2026-09",
    "PRIVACY_VERSION": "2026-09",
    "DOCUMENTS_BUCKET": "probe-bucket",
    "ROLES_CLAIM": "https://holidaylights.example/roles",
    "METRICS_NAMESPACE": "HolidayLights/Onboarding",
}


def probe(cmd: list, env: dict, runs: int) -> tuple:
    """(init ms per run, RSS MB per run), or raises RuntimeError when it never asks."""
    inits, rss = [], []
    for _ in range(runs):
        FIRST_NEXT.clear()
        start = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not FIRST_NEXT.wait(10):
            proc.kill()
            _, err = proc.communicate()
            last = err.decode(errors="replace").strip().splitlines()[-1:] or ["(nothing on stderr)"]
            raise RuntimeError(f"never asked for an invocation: {last[0][:200]}")
        inits.append((time.monotonic() - start) * 1000)
        with open(f"/proc/{proc.pid}/status") as f:
            rss.append(next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024)
        proc.kill()
        proc.wait()
    return inits, rss


def zipped_size(paths: list, root: str) -> int:
    """Bytes of a deflated zip of `paths` (files under `root`), as a Lambda upload is."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for path in paths:
            z.write(path, os.path.relpath(path, root))
    return buf.tell()


def function_envs(template_path: str) -> dict:
    """Binary name -> its environment from the template (Globals merged). Literals as
    written; references to parameters as their defaults; other references as a plausible
    stand-in by the variable's name (a URL, an ARN, a name)."""
    from cfnlint.decode import cfn_yaml

    t = cfn_yaml.load(template_path)
    params = {k: v.get("Default") for k, v in t.get("Parameters", {}).items()}

    def stand_in(name: str) -> str:
        if name.endswith("_URL"):
            return "https://sqs.us-east-1.amazonaws.com/123456789012/Probe"
        if name.endswith("_ARN"):
            return "arn:aws:secretsmanager:us-east-1:123456789012:secret:probe"
        if name.endswith("_BUCKET"):
            return "probe-bucket"
        return GENERIC.get(name, "probe")

    def value(name, v):
        if isinstance(v, (str, int, float, bool)):
            return str(v)
        if isinstance(v, dict) and "Ref" in v and v["Ref"] in params and params[v["Ref"]] is not None:
            return str(params[v["Ref"]])  # a parameter's default, even an empty one
        return stand_in(name)

    globals_env = t.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    envs = {}
    for res in t["Resources"].values():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        meta = res.get("Metadata", {})
        binary = (meta.get("BuildProperties") or {}).get("Binary") \
            or (meta.get("DockerBuildArgs") or {}).get("BINARY")
        if not binary:
            continue
        own = res["Properties"].get("Environment", {}).get("Variables", {})
        envs[str(binary)] = {k: value(k, v) for k, v in {**globals_env, **own}.items()}
    return envs


def table(opts) -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"127.0.0.1:{server.server_address[1]}"
    envs = function_envs(opts.template)

    def row(name, cmd, extra_env, size_paths, size_root):
        env = base_env(api, name)
        env.update(GENERIC)
        env.update(extra_env)
        try:
            inits, rss = probe(cmd, env, opts.runs)
        except RuntimeError as e:
            return {"name": name, "error": str(e)}
        binary = sum(os.path.getsize(p) for p in size_paths)
        return {
            "name": name,
            "init": statistics.median(inits),
            "p90": sorted(inits)[int(0.9 * (len(inits) - 1))],
            "rss": statistics.median(rss),
            "binary": binary,
            "zip": zipped_size(size_paths, size_root),
        }

    hello = row("hello (bare lambda_runtime)", [opts.hello], {}, [opts.hello], os.path.dirname(opts.hello))
    node_files = [os.path.join(d, f) for d, _, fs in os.walk(opts.node) for f in fs]
    node = row("node 20 + SDK v3 DynamoDB", ["node", os.path.join(opts.node, "bootstrap.mjs")], {},
               node_files, opts.node)
    rows = []
    for name in opts.functions:
        path = os.path.join(opts.bin_dir, name)
        rows.append(row(name, [path], envs.get(name, {}), [path], opts.bin_dir))

    mb = lambda b: b / 1024 / 1024  # noqa: E731
    print(f"{'function':<30} {'init ms':>8} {'p90':>6} {'x hello':>8} {'node / fn':>9} {'RSS MB':>7} "
          f"{'binary MB':>9} {'zip MB':>7}")
    failures = []
    for r in [hello, node] + rows:
        if "error" in r:
            print(f"{r['name']:<30} {r['error']}")
            failures.append(r["name"])
            continue
        ratio = r["init"] / hello["init"] if "init" in hello else float("nan")
        vs_node = node["init"] / r["init"] if "init" in node else float("nan")
        print(f"{r['name']:<30} {r['init']:>8.1f} {r['p90']:>6.1f} {ratio:>8.2f} {vs_node:>9.1f} "
              f"{r['rss']:>7.1f} {mb(r['binary']):>9.2f} {mb(r['zip']):>7.2f}")
    measured = [r for r in rows if "init" in r]
    if measured and "init" in hello and "init" in node:
        worst = max(measured, key=lambda r: r["init"])
        within = sum(r["init"] <= 1.5 * hello["init"] for r in measured)
        fifth = sum(r["init"] <= node["init"] / 5 for r in measured)
        small = sum(r["zip"] <= 4 * 1024 * 1024 for r in measured)
        print(f"\n{len(measured)} functions, {opts.runs} runs each: init ≤ 1.5× hello for {within}, "
              f"≤ 1/5 of Node for {fifth}, zip ≤ 4 MB for {small}; slowest {worst['name']} "
              f"{worst['init']:.1f} ms ({worst['init'] / hello['init']:.2f}× hello, "
              f"Node {node['init'] / worst['init']:.1f}× slower)")
    return 1 if failures else 0


def single(binary: str, runs: int) -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = base_env(f"127.0.0.1:{server.server_address[1]}", os.path.basename(binary))
    env.update(GENERIC)
    try:
        inits, rss = probe([binary], env, runs)
    except RuntimeError as e:
        sys.exit(f"{binary} {e}")
    print(f"{os.path.basename(binary)}: init median {statistics.median(inits):.1f} ms "
          f"(min {min(inits):.1f}, max {max(inits):.1f}, {runs} runs), RSS {statistics.median(rss):.1f} MB")
    return 0


def main() -> int:
    if "--table" not in sys.argv:
        return single(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 15)
    p = argparse.ArgumentParser()
    p.add_argument("--table", action="store_true")
    p.add_argument("--template", required=True)
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--hello", required=True)
    p.add_argument("--node", required=True)
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("functions", nargs="+")
    return table(p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
