"""OpenAPI fragments for endpoints whose handlers read the raw request.

The core parses each request itself (one parser for both adapters), so FastAPI cannot infer
the request body and query parameters from the view's signature; they are described here
from the endpoint's own models instead, inlined so the fragment needs no shared components.
"""

from __future__ import annotations

from typing import Any

from walker_channels.web.endpoints import Endpoint

JsonSchema = dict[str, Any]


def operation_extra(endpoint: Endpoint) -> dict[str, Any]:
    """``openapi_extra`` for ``endpoint``: its path and query parameters and its request body."""
    extra: dict[str, Any] = {}
    parameters = [_path_parameter(name) for name in endpoint.path_params]
    if endpoint.query is not None:
        parameters += _query_parameters(inline_schema(endpoint.query.model_json_schema()))
    if parameters:
        extra["parameters"] = parameters
    if endpoint.body is not None:
        schema = inline_schema(endpoint.body.model_json_schema())
        extra["requestBody"] = {
            "required": endpoint.body_required,
            "content": {endpoint.body_media_type: {"schema": schema}},
        }
    return extra


def inline_schema(schema: JsonSchema) -> JsonSchema:
    """``schema`` with every local ``$ref`` replaced by its definition (no recursive models)."""
    definitions: JsonSchema = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                merged = {**definitions[ref.removeprefix("#/$defs/")], **node}
                merged.pop("$ref")
                return resolve(merged)
            return {key: resolve(value) for key, value in node.items() if key != "$defs"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: JsonSchema = resolve(schema)
    return resolved


def _path_parameter(name: str) -> JsonSchema:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query_parameters(schema: JsonSchema) -> list[JsonSchema]:
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {key: value for key, value in field.items() if key != "description"},
            **({"description": field["description"]} if "description" in field else {}),
        }
        for name, field in schema.get("properties", {}).items()
    ]
