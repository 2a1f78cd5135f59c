#!/usr/bin/env python3
"""Validates deploy/kubernetes offline, as the test suite does (tests/e2e/operations.rs):

- hoinghi.yaml against the Kubernetes API schemas (kubernetes-validate, strict: an unknown field fails);
- nats-values.yaml against the official NATS chart's defaults (nats-chart-2.14.2-defaults.yaml): every
  key it sets is one the chart has (under `merge`, free-form NATS configuration or Kubernetes spec);
  the container and pod fragments it merges, as a Pod, against the Kubernetes schemas;
- writes the services' hoinghi.toml (from the ConfigMap) to the path given, for
  `hoinghi-<service> --check-config`.

Usage: validate.py KUBERNETES_VERSION OUT_TOML   (needs kubernetes-validate, PyYAML)
"""
import pathlib
import sys

import kubernetes_validate
import yaml

HERE = pathlib.Path(__file__).resolve().parent
version, out_toml = sys.argv[1], sys.argv[2]
problems = []

documents = [d for d in yaml.safe_load_all((HERE / "hoinghi.yaml").read_text()) if d]
for doc in documents:
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        problems.append(f"hoinghi.yaml {doc['kind']}/{doc['metadata']['name']}: {e.message} at {list(e.path)}")
config_maps = [d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "hoinghi-config"]
pathlib.Path(out_toml).write_text(config_maps[0]["data"]["hoinghi.toml"])


def unknown_keys(values, defaults, path=""):
    """Keys of `values` the chart's `defaults` do not have (`merge` and `patch` are free-form)."""
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key in ("merge", "patch"):
            continue
        if not isinstance(defaults, dict) or key not in defaults:
            yield where
        elif isinstance(value, dict):
            yield from unknown_keys(value, defaults[key], where)


values = yaml.safe_load((HERE / "nats-values.yaml").read_text())
defaults = yaml.safe_load((HERE / "nats-chart-2.14.2-defaults.yaml").read_text())
problems += [f"nats-values.yaml: the chart has no key {k}" for k in unknown_keys(values, defaults)]
container = {"name": "nats", "image": "nats:2.14.2-alpine", **values.get("container", {}).get("merge", {})}
pod_spec = dict(values.get("podTemplate", {}).get("merge", {}).get("spec", {}))
pod_spec["containers"] = [container]
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nats-0"}, "spec": pod_spec}
try:
    kubernetes_validate.validate(pod, version, strict=True)
except kubernetes_validate.ValidationError as e:
    problems.append(f"nats-values.yaml container/podTemplate merge: {e.message} at {list(e.path)}")

if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"ok: {len(documents)} resources of hoinghi.yaml, nats-values.yaml, against Kubernetes {version}")
