#!/usr/bin/env python3
"""Trim Apple's App Store Connect OpenAPI spec to the operations asc-publish uses.

Keeps the chosen (path, method) operations and every component they reference, transitively
(following "$ref" through schemas, responses and parameters), plus `securitySchemes`. Nothing in
a kept schema is edited, so the subset validates exactly what the full spec would.

Usage: scripts/trim-openapi.py SOURCE.json OUT.json
"""

import json
import sys

# (path, methods) the simulator serves and the client calls.
KEEP = {
    "/v1/apps": ["get"],
    "/v1/apps/{id}": ["get"],
    "/v1/apps/{id}/buildUploads": ["get"],
    "/v1/buildUploads": ["post"],
    "/v1/buildUploads/{id}": ["get", "delete"],
    "/v1/buildUploads/{id}/buildUploadFiles": ["get"],
    "/v1/buildUploadFiles": ["post"],
    "/v1/buildUploadFiles/{id}": ["get", "patch"],
    "/v1/builds": ["get"],
    "/v1/builds/{id}": ["get", "patch"],
    "/v1/builds/{id}/buildBetaDetail": ["get"],
    "/v1/preReleaseVersions": ["get"],
    # TestFlight distribution and build management.
    "/v1/apps/{id}/betaGroups": ["get"],
    "/v1/betaGroups": ["get"],
    "/v1/betaGroups/{id}": ["get"],
    "/v1/betaGroups/{id}/builds": ["get"],
    "/v1/betaGroups/{id}/relationships/builds": ["get", "post", "delete"],
    "/v1/builds/{id}/relationships/betaGroups": ["post", "delete"],
    "/v1/betaBuildLocalizations": ["get", "post"],
    "/v1/betaBuildLocalizations/{id}": ["get", "patch", "delete"],
    "/v1/builds/{id}/betaBuildLocalizations": ["get"],
    "/v1/buildBetaNotifications": ["post"],
    "/v1/buildBetaDetails": ["get"],
    "/v1/buildBetaDetails/{id}": ["get", "patch"],
    "/v1/betaTesters": ["get"],
    "/v1/builds/{id}/individualTesters": ["get"],
    "/v1/builds/{id}/relationships/individualTesters": ["get", "post", "delete"],
    "/v1/apps/{id}/betaAppReviewDetail": ["get"],
    "/v1/betaAppReviewDetails": ["get"],
    "/v1/betaAppReviewDetails/{id}": ["get", "patch"],
    "/v1/apps/{id}/betaAppLocalizations": ["get"],
    "/v1/betaAppLocalizations": ["get"],
    "/v1/betaAppReviewSubmissions": ["get", "post"],
    "/v1/betaAppReviewSubmissions/{id}": ["get"],
    "/v1/builds/{id}/betaAppReviewSubmission": ["get"],
    # App Store release (`asc-publish release`).
    "/v1/apps/{id}/appStoreVersions": ["get"],
    "/v1/appStoreVersions": ["post"],
    "/v1/appStoreVersions/{id}": ["get", "patch"],
    "/v1/appStoreVersions/{id}/relationships/build": ["patch"],
    "/v1/appStoreVersions/{id}/appStoreVersionLocalizations": ["get"],
    "/v1/appStoreVersionLocalizations": ["post"],
    "/v1/appStoreVersionLocalizations/{id}": ["get", "patch"],
    "/v1/appStoreVersionLocalizations/{id}/appScreenshotSets": ["get"],
    "/v1/appStoreVersions/{id}/appStoreReviewDetail": ["get"],
    "/v1/appStoreVersions/{id}/appStoreVersionPhasedRelease": ["get"],
    "/v1/appStoreVersionPhasedReleases": ["post"],
    "/v1/appStoreVersionPhasedReleases/{id}": ["delete"],
    "/v1/apps/{id}/reviewSubmissions": ["get"],
    "/v1/reviewSubmissions": ["get", "post"],
    "/v1/reviewSubmissions/{id}": ["get", "patch"],
    "/v1/reviewSubmissions/{id}/items": ["get"],
    "/v1/reviewSubmissionItems": ["post"],
}


def refs(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def resolve(spec, ref):
    assert ref.startswith("#/"), ref
    node = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def main(src, out):
    with open(src, encoding="utf-8") as f:
        spec = json.load(f)
    paths = {}
    for path, methods in KEEP.items():
        item = spec["paths"][path]
        kept = {m: item[m] for m in methods}
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
        paths[path] = kept
    seen, todo = set(), set()
    refs(paths, todo)
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        found = set()
        refs(resolve(spec, ref), found)
        todo |= found - seen
    components = {}
    for ref in sorted(seen):
        _, _, kind, name = ref.split("/", 3)
        components.setdefault(kind, {})[name] = spec["components"][kind][name]
    if "securitySchemes" in spec.get("components", {}):
        components["securitySchemes"] = spec["components"]["securitySchemes"]
    subset = {
        "openapi": spec["openapi"],
        "info": dict(spec["info"], title=spec["info"]["title"] + " (subset used by asc-publish)"),
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": components,
    }
    if "security" in spec:
        subset["security"] = spec["security"]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(subset, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{out}: {len(paths)} paths, {sum(len(v) for v in components.values())} components")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
