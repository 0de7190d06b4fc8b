#!/usr/bin/env python3
"""What `sam build` needs from the template, checked in seconds (no build, no Docker).

  packaging.py split OUT         write the template without its container image functions
                                 (for machines without a Docker daemon) to OUT; prints
                                 which functions it left out
  packaging.py check TEMPLATE... check every function of each template the way `sam build`
                                 resolves it: CodeUri relative to the template's own folder,
                                 the Makefile target `build-<LogicalId>` there, the binary it
                                 builds, BuildMethod/BuildProperties, handler, runtime and
                                 architecture; image functions' Dockerfile and context.

`scripts/package.sh` splits and checks before it builds; `make test` runs the same split and
check, so a template that `sam build` could not build fails the tests, not the release.
"""
import json
import os
import re
import sys

from cfnlint.decode import decode

FUNCTION = "AWS::Serverless::Function"
ARCHITECTURES = {"arm64", "x86_64"}


def load(path):
    template, problems = decode(path)
    if problems:
        sys.exit(f"{path}: {problems}")
    return template


def functions(template):
    return {k: r for k, r in template.get("Resources", {}).items() if r.get("Type") == FUNCTION}


def split(out):
    template = load("template.yaml")
    images = [k for k, r in functions(template).items()
              if r.get("Properties", {}).get("PackageType") == "Image"]
    for k in images:
        del template["Resources"][k]
    with open(out, "w") as f:
        json.dump(template, f, indent=1, default=str)
    print("container image functions left to a machine with a Docker daemon:",
          ", ".join(images) or "none", file=sys.stderr)


def makefile_targets(folder):
    """`build-<LogicalId>` targets of the Makefile in `folder`, with the lines they run."""
    path = os.path.join(folder, "Makefile")
    if not os.path.isfile(path):
        return None
    targets, current = {}, None
    for line in open(path):
        m = re.match(r"^(build-[A-Za-z0-9]+):", line)
        if m:
            current = m.group(1)
            targets[current] = []
        elif current and line.startswith("\t"):
            targets[current].append(line.strip())
        elif line.strip():
            current = None
    return targets


def check(path):
    template = load(path)
    base = os.path.dirname(os.path.abspath(path))
    globals_ = template.get("Globals", {}).get("Function", {})
    problems = []
    found = functions(template)
    if not found:
        problems.append("no functions")
    for name, resource in sorted(found.items()):
        props = resource.get("Properties", {})
        meta = resource.get("Metadata", {})
        say = lambda what: problems.append(f"{name}: {what}")
        arch = props.get("Architectures", globals_.get("Architectures", ["x86_64"]))
        if not (isinstance(arch, list) and len(arch) == 1 and arch[0] in ARCHITECTURES):
            say(f"Architectures must be one of {sorted(ARCHITECTURES)}, not {arch}")
        if not props.get("AutoPublishAlias", globals_.get("AutoPublishAlias")):
            say("no AutoPublishAlias: a release could not be shifted or rolled back")
        preference = props.get("DeploymentPreference", globals_.get("DeploymentPreference")) or {}
        if not preference.get("Type") or not preference.get("Alarms"):
            say("DeploymentPreference needs a Type and the alarms that roll a release back")
        if props.get("PackageType") == "Image":
            context = os.path.join(base, meta.get("DockerContext", "."))
            dockerfile = os.path.join(context, meta.get("Dockerfile", "Dockerfile"))
            if not os.path.isfile(dockerfile):
                say(f"Dockerfile {os.path.relpath(dockerfile)} not found (DockerContext is relative to the template)")
            if "Runtime" in props or "Handler" in props:
                say("an image function takes no Runtime or Handler")
            continue
        if meta.get("BuildMethod") != "makefile":
            say(f"BuildMethod must be makefile, not {meta.get('BuildMethod')!r}")
        binary = meta.get("BuildProperties", {}).get("Binary")
        if not binary or not os.path.isfile(os.path.join(base, "functions", str(binary), "Cargo.toml")):
            say(f"BuildProperties.Binary {binary!r} is not a crate in functions/")
        if props.get("Runtime") != "provided.al2023":
            say(f"Runtime must be provided.al2023, not {props.get('Runtime')!r}")
        if props.get("Handler") != "bootstrap":
            say(f"Handler must be bootstrap, not {props.get('Handler')!r}")
        code = os.path.normpath(os.path.join(base, str(props.get("CodeUri", "."))))
        targets = makefile_targets(code)
        if targets is None:
            say(f"CodeUri {props.get('CodeUri')!r} resolves to {os.path.relpath(code)}/, which has no Makefile "
                "(sam build resolves CodeUri relative to the template's folder)")
            continue
        target = f"build-{name}"
        if target not in targets:
            say(f"{os.path.relpath(code)}/Makefile has no {target} target")
        elif not any(f"lambda-artifact.sh {binary} " in line for line in targets[target]):
            say(f"{target} does not build {binary}: {targets[target]}")
    return problems


def main(argv):
    if len(argv) == 3 and argv[1] == "split":
        split(argv[2])
        return 0
    if len(argv) >= 3 and argv[1] == "check":
        failed = False
        for path in argv[2:]:
            problems = check(path)
            for p in problems:
                print(f"{path}: {p}", file=sys.stderr)
            failed |= bool(problems)
            if not problems:
                print(f"{path}: {len(functions(load(path)))} functions resolve as sam build will see them")
        return 1 if failed else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
