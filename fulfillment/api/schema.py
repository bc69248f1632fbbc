"""OpenAPI post-processing: request bodies refuse unknown fields, so the schema says so."""


def forbid_additional_properties(result, generator, request, public):
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object" and "properties" in component:
            component["additionalProperties"] = False
    return result
