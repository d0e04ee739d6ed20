"""The OpenAPI document tells the truth: what the fuzz test (test_api_fuzz.py) relies on,
checked directly so a regression names its cause."""

from __future__ import annotations

import json

from ninja.constants import NOT_SET
from ninja.schema import NinjaGenerateJsonSchema

from linli.api import ERROR_STATUSES, api

REF = "#/components/schemas/{model}"


def _operations():
    for router in api._get_bound_routers():
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield path, operation


def test_each_component_name_stands_for_one_schema():
    """Ninja files every model under its class name: two `EventOut` classes in two apps
    used to share one component, so one operation's answers were documented with the other's
    fields (issue 14's fuzzing found /home and /orders answering "against" their schema)."""
    components = api.get_openapi_schema()["components"]["schemas"]
    clashes: dict[str, str] = {}
    for path, operation in _operations():
        models = [(m, "validation") for m in operation.models]
        models += [(m, "serialization") for m in operation.response_models.values()
                   if m not in (NOT_SET, None)]
        for model, mode in models:
            defs = model.model_json_schema(ref_template=REF, schema_generator=NinjaGenerateJsonSchema,
                                           mode=mode).get("$defs", {})
            for name, schema in defs.items():
                if json.dumps(components.get(name), sort_keys=True) != json.dumps(schema, sort_keys=True):
                    clashes.setdefault(name, path)
    assert not clashes, clashes


def test_every_operation_declares_our_error_answers():
    document = api.get_openapi_schema()
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "details"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ERROR_STATUSES:
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path, status)
