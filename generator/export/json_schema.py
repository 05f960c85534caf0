"""The JSON Schema of the spec format, derived from the pydantic models (never written by hand)."""

from __future__ import annotations

import json
from typing import Any

SCHEMA_ID = "https://eventgen.dev/schemas/event-spec.schema.json"


def spec_schema() -> dict[str, Any]:
    from ..spec.models import Spec

    schema = Spec.model_json_schema(by_alias=True)
    # The models accept a field's short form (just the type string) through a
    # before-validator that pydantic cannot see; say so in the schema.
    field_ref = {"$ref": "#/$defs/FieldSpec"}
    short = {
        "type": "string",
        "description": "Short form: the field type, e.g. str, list[int], dict[str, any], str | None.",
    }
    payload = schema["$defs"]["EventSpec"]["properties"]["payload"]
    payload["additionalProperties"] = {"anyOf": [short, field_ref]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def spec_schema_text() -> str:
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
