#!/usr/bin/env python3
"""No Docker engine runs here, so the deployment files are checked as far as possible without
one: the YAML files parse, the compose file has its three servers (each with a volume), a
scalable client service and healthchecks that ask `zpartisan-ctl health`, the manifests have the
headless Service, the server StatefulSet and the client Deployment, each pod with a readiness
probe of `health`, a liveness probe of `health --live` and scrape annotations naming its metrics
port, the image serves metrics on that port, the optional ServiceMonitor selects a Service with
that port, and every zpartisan-node / zpartisan-ctl flag and every ZPARTISAN_* variable they use
exists in the binaries' --help. Exits non-zero after listing every gap."""
import re
import subprocess
import sys

import yaml

build, root = sys.argv[1], sys.argv[2]
node_help = subprocess.run([f"{build}/zpartisan-node", "--help"], capture_output=True, text=True).stdout
ctl_help = "".join(subprocess.run([f"{build}/zpartisan-ctl", *command, "--help"], capture_output=True, text=True).stdout
                   for command in ([], ["health"], ["keygen"]))
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

metrics_port = 9464
for name, service in services.items():
    test = service.get("healthcheck", {}).get("test", [])
    if "health" not in test:
        problems.append(f"compose: {name}'s healthcheck does not ask zpartisan-ctl health")
    if str(metrics_port) not in [str(p) for p in service.get("expose", [])]:
        problems.append(f"compose: {name} does not expose the metrics port {metrics_port}")
    if service.get("labels", {}).get("prometheus.io/scrape") != "true":
        problems.append(f"compose: {name} has no prometheus.io/scrape label")


def command_of(probe):
    return (probe or {}).get("exec", {}).get("command", [])


for workload in (d for d in yaml.safe_load_all(k8s_text) if d and d["kind"] in ("StatefulSet", "Deployment")):
    template = workload["spec"]["template"]
    where = f"k8s {workload['kind']} {workload['metadata']['name']}"
    annotations = template["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true":
        problems.append(f"{where}: no prometheus.io/scrape annotation")
    for container in template["spec"]["containers"]:
        ports = {p["containerPort"]: p.get("name") for p in container.get("ports", [])}
        if str(annotations.get("prometheus.io/port")) not in [str(p) for p in ports]:
            problems.append(f"{where}: the prometheus.io/port annotation names no container port")
        readiness = command_of(container.get("readinessProbe"))
        liveness = command_of(container.get("livenessProbe"))
        if "health" not in readiness or "--live" in readiness:
            problems.append(f"{where}: readiness is not `zpartisan-ctl health` (settled)")
        if "health" not in liveness or "--live" not in liveness:
            problems.append(f"{where}: liveness is not `zpartisan-ctl health --live` (the process answers)")

monitor_text = open(f"{root}/docker/k8s/servicemonitor.yaml").read()
monitor_docs = [d for d in yaml.safe_load_all(monitor_text) if d]
monitors = [d for d in monitor_docs if d["kind"] == "ServiceMonitor"]
if not monitors:
    problems.append("k8s: servicemonitor.yaml has no ServiceMonitor")
for monitor in monitors:
    wanted = monitor["spec"]["selector"]["matchLabels"]
    matching = [d for d in monitor_docs if d["kind"] == "Service" and wanted.items() <= d["metadata"]["labels"].items()]
    port_names = {p.get("name") for d in matching for p in d["spec"]["ports"] if p["port"] == metrics_port}
    for endpoint in monitor["spec"]["endpoints"]:
        if endpoint.get("port") not in port_names:
            problems.append(f"k8s: the ServiceMonitor's port {endpoint.get('port')} is no Service's metrics port")

dockerfile = open(f"{root}/docker/Dockerfile").read()
if f"ZPARTISAN_METRICS_BIND=0.0.0.0:{metrics_port}" not in dockerfile or str(metrics_port) not in dockerfile.split("EXPOSE")[-1].split("\n")[0]:
    problems.append(f"Dockerfile: the image neither serves nor exposes metrics on {metrics_port}")
if "libprometheus-cpp-pull" not in dockerfile:
    problems.append("Dockerfile: the runtime stage lacks libprometheus-cpp-pull (the metrics exporter)")
for text, where in ((compose_text, "compose.yml"), (curve_text, "compose.curve.yml"), (k8s_text, "k8s"),
                    (monitor_text, "servicemonitor.yaml"),
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
    for command in re.findall(r"zpartisan-ctl[^\]\n]*?\b(status|members|metrics|health|watch)\b", text):
        if command not in ctl_help:
            problems.append(f"{where}: zpartisan-ctl has no {command}")

for p in problems:
    print(p)
print(f"{'FAILED' if problems else 'ok'}: {len(problems)} problems in the deployment files")
sys.exit(1 if problems else 0)
