"""The OpenAPI document: generated from the methodologies, every evidence schema in it, well formed.

No OpenAPI validator is a dependency, so the document's structure is checked
here: each schema is valid JSON Schema 2020-12 (OpenAPI 3.1's dialect), each
``$ref`` resolves, each path template's parameters are declared, operation ids
are unique, and every route the application serves is described.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from starlette.routing import Route

import resolveflow
from resolveflow.server import create_app, openapi_document

DOCUMENT = openapi_document()


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(ref: str, document: dict[str, Any] = DOCUMENT) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_every_action_of_every_methodology_has_its_evidence_schema_in_the_document() -> None:
    # Made now, not at import: another test in this process may have registered a methodology since.
    document = openapi_document()
    index = document["x-resolveflow-evidence"]
    fire = document["paths"]["/cases/{case_id}/actions/{action}"]["post"]
    listed = fire["requestBody"]["content"]["application/json"]["schema"]["properties"]["evidence"]["anyOf"]
    count = 0
    for methodology_id in resolveflow.available():
        for version in resolveflow.versions(methodology_id):
            methodology = resolveflow.get_methodology(methodology_id, version)
            for action in methodology.actions:
                ref = index[methodology_id][version][action.name]
                assert ref in listed
                expected = {k: v for k, v in action.evidence_schema().items() if k != "$schema"}
                found = dict(resolve(ref["$ref"], document))
                found.pop("description", None)
                expected.pop("description", None)
                assert found == expected, (methodology_id, version, action.name)
                count += 1
    assert len(listed) == count + 1  # and null, for an action without evidence


def test_a_methodology_registered_later_appears(tmp_path: Any) -> None:
    from resolveflow import files

    data = files.methodology_to_dict(resolveflow.get_methodology("engage", "1.0"))
    data["id"] = "engage-copy"
    copy = files.methodology_from_dict(data)
    resolveflow.register(copy)
    try:
        assert "engage-copy" in openapi_document()["x-resolveflow-evidence"]
    finally:
        resolveflow.unregister("engage-copy", copy.version, forget=True)


@pytest.mark.parametrize("name", sorted(DOCUMENT["components"]["schemas"]))
def test_each_schema_is_json_schema_2020_12(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(DOCUMENT["components"]["schemas"][name])


def test_every_ref_resolves_and_operation_ids_are_unique() -> None:
    for ref in set(refs(DOCUMENT)):
        resolve(ref)
    ids = [op["operationId"] for item in DOCUMENT["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert DOCUMENT["openapi"] == "3.1.0"
    assert DOCUMENT["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    problem = DOCUMENT["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}


def test_path_parameters_are_declared() -> None:
    for path, item in DOCUMENT["paths"].items():
        templated = set(re.findall(r"{(\w+)}", path))
        for operation in item.values():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == templated, (path, declared)
            assert all(p["required"] for p in operation["parameters"] if p["in"] == "path")
            assert "default" in operation["responses"]


def test_every_route_served_is_described(tmp_path: Any) -> None:
    import resolveflow.store

    store = resolveflow.store.connect_async(str(tmp_path / "c.db"))
    app = create_app(store, tokens={"a-long-random-token-0001": resolveflow.Actor("ana")})
    served = {
        (method.lower(), route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in (route.methods or ())
        if method != "HEAD"
    }
    described = {(method, path) for path, item in DOCUMENT["paths"].items() for method in item}
    assert served == described
