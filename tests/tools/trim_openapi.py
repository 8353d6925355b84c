"""Trim GitHub's OpenAPI description to the operations asc-publish calls (and the components they
reference), dropping example `Link` headers; writes tests/fixtures/github-openapi-subset.json."""
import json
import sys

src, dst, *ops = sys.argv[1:]
with open(src) as f:
    doc = json.load(f)
keep = {}
for op in ops:
    method, path = op.split(" ", 1)
    keep.setdefault(path, {})[method] = doc["paths"][path][method]
    if "parameters" in doc["paths"][path]:
        keep[path]["parameters"] = doc["paths"][path]["parameters"]
out = {k: doc[k] for k in ("openapi", "info", "servers") if k in doc}
out["paths"], out["components"] = keep, {}
todo = [keep]
while todo:
    node = todo.pop()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            _, _, kind, name = ref.split("/", 3)
            bucket = out["components"].setdefault(kind, {})
            if name not in bucket:
                bucket[name] = doc["components"][kind][name]
                todo.append(bucket[name])
        todo.extend(node.values())
    elif isinstance(node, list):
        todo.extend(node)
for operations in keep.values():
    for method, op in operations.items():
        if method != "parameters":
            for resp in op.get("responses", {}).values():
                resp.get("headers", {}).pop("Link", None)
with open(dst, "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
