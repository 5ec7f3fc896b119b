#!/usr/bin/env python3
"""No Docker engine runs here, so the deployment files are checked as far as possible without
one: both YAML files parse, the compose file has its three servers (each with a volume), a
scalable client service and healthchecks, the manifests have the headless Service, the server
StatefulSet and the client Deployment, and every zpartisan-node / zpartisan-ctl flag and every
ZPARTISAN_* variable they use exists in the binaries' --help. Exits non-zero on the first gap."""
import re
import subprocess
import sys

import yaml

build, root = sys.argv[1], sys.argv[2]
node_help = subprocess.run([f"{build}/zpartisan-node", "--help"], capture_output=True, text=True).stdout
ctl_help = subprocess.run([f"{build}/zpartisan-ctl", "--help"], capture_output=True, text=True).stdout
ctl_help += subprocess.run([f"{build}/zpartisan-ctl", "keygen", "--help"], capture_output=True, text=True).stdout
problems = []

compose_text = open(f"{root}/docker/compose.yml").read()
compose = yaml.safe_load(compose_text)
services = compose["services"]
for name in ("s1", "s2", "s3", "client"):
    if name not in services:
        problems.append(f"compose: no service {name}")
for name in ("s1", "s2", "s3"):
    if not services.get(name, {}).get("volumes"):
        problems.append(f"compose: {name} has no data volume")
for name, service in services.items():
    if "healthcheck" not in service:
        problems.append(f"compose: {name} has no healthcheck")
    if "container_name" in service and name == "client":
        problems.append("compose: a container_name would stop the client service from scaling")

k8s_text = open(f"{root}/docker/k8s/zpartisan.yaml").read()
kinds = [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(k8s_text) if d]
for expected in (("Service", "zpartisan-server"), ("StatefulSet", "zpartisan-server"), ("Deployment", "zpartisan-client")):
    if expected not in kinds:
        problems.append(f"k8s: missing {expected}")
service = next(d for d in yaml.safe_load_all(k8s_text) if d and d["kind"] == "Service")
if service["spec"].get("clusterIP") != "None":
    problems.append("k8s: the server Service must be headless")

# The curve overlay: every service of compose.yml gets a secret key file and the allow list,
# from secrets it declares; the joins name the seed's key.
curve_text = open(f"{root}/docker/compose.curve.yml").read()
curve = yaml.safe_load(curve_text)
for name, service in curve["services"].items():
    if name not in services:
        problems.append(f"compose.curve.yml: {name} is not a service of compose.yml")
    env = service.get("environment", {})
    for variable in ("ZPARTISAN_CURVE_SECRET_FILE", "ZPARTISAN_CURVE_ALLOW"):
        if variable not in env:
            problems.append(f"compose.curve.yml: {name} has no {variable}")
    for secret in service.get("secrets", []):
        if secret not in curve.get("secrets", {}):
            problems.append(f"compose.curve.yml: {name} uses undeclared secret {secret}")
    if "ZPARTISAN_JOIN" in env and "#${" not in env["ZPARTISAN_JOIN"]:
        problems.append(f"compose.curve.yml: {name} joins without naming the seed's key")
for name in services:
    if name not in curve["services"]:
        problems.append(f"compose.curve.yml: {name} stays plaintext")

dockerfile = open(f"{root}/docker/Dockerfile").read()
for text, where in ((compose_text, "compose.yml"), (curve_text, "compose.curve.yml"), (k8s_text, "k8s"),
                    (dockerfile, "Dockerfile")):
    for variable in sorted(set(re.findall(r"ZPARTISAN_[A-Z_]+", text))):
        if variable not in node_help and variable != "ZPARTISAN_CONTROL":
            problems.append(f"{where}: {variable} is not a zpartisan-node variable")
        if variable == "ZPARTISAN_CONTROL" and variable not in node_help:
            problems.append(f"{where}: {variable} unknown")
    for flag in sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", text))):
        if flag in ("--no-install-recommends", "--scale", "--create-home", "--from", "--home", "--system", "--from-file"):
            continue  # docker, apt-get, useradd and kubectl flags
        if flag not in node_help and flag not in ctl_help:
            problems.append(f"{where}: flag {flag} exists in neither zpartisan-node nor zpartisan-ctl")
    for command in re.findall(r"zpartisan-ctl[^\]\n]*?\b(status|members|metrics)\b", text):
        if command not in ctl_help:
            problems.append(f"{where}: zpartisan-ctl has no {command}")

for p in problems:
    print(p)
print(f"{'FAILED' if problems else 'ok'}: {len(problems)} problems in the deployment files")
sys.exit(1 if problems else 0)
