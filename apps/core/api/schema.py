"""OpenAPI generation: documented errors everywhere, GeoJSON response shapes, optional fields.

``QuartierAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) adds the error responses an operation can
give — all with the one error shape — unless the view documents them itself: 400 for query
parameters or a body, 401/403 for authenticated or permission-checked operations, 404 for
paths with a parameter, 413 for bodies, 429 for throttled views. It also leaves
``optional_fields`` of response serializers out of ``required`` (``distance_m``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import permissions, serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": serializers.CharField(
            help_text="Machine-readable code, stable (docs/api.md, Errors): `invalid`, "
            "`not_authenticated`, `authentication_failed`, `permission_denied`, `not_found`, "
            "`throttled`, `payload_too_large`…"
        ),
        "message": serializers.CharField(
            help_text="Human-readable explanation, in the language negotiated from "
            "Accept-Language (French by default, or English); its wording may change."
        ),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="For `invalid`: messages per parameter or body field (dotted names).",
        ),
    },
)

ERROR_DESCRIPTIONS = {
    "400": "Malformed parameter or body (`invalid`, with `fields`).",
    "401": "Missing or invalid credentials (`Authorization: Api-Key <key>` or a session).",
    "403": "Authenticated, but not allowed (e.g. another organization's content).",
    "404": "Not found: no such public item, or a page past the last one.",
    "413": "Request body too large.",
    "429": "Too many requests; retry after the `Retry-After` header's seconds.",
}

FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    enum=["json", "geojson"],
    description="Response format; `geojson` is the same as `Accept: application/geo+json`.",
)
CONDITIONAL_PARAMETERS = [
    OpenApiParameter(
        "If-None-Match",
        str,
        OpenApiParameter.HEADER,
        description="An `ETag` received before: 304 if the response would be the same.",
    ),
    OpenApiParameter(
        "If-Modified-Since",
        str,
        OpenApiParameter.HEADER,
        description="A `Last-Modified` received before (used without `If-None-Match`).",
    ),
]
NOT_MODIFIED = OpenApiResponse(description="Not modified: use your cached copy.")


class RawResponseSchema(dict):
    """A response schema used as is (never wrapped in a paginated list by the generator)."""


#: Derived GeoJSON property components: name → (source component, properties to drop).
_DERIVED: dict[str, tuple[str, tuple[str, ...]]] = {}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def geojson_feature_schema(component: str) -> dict[str, Any]:
    """A GeoJSON Feature whose properties are ``component`` without its geometry."""
    properties = f"{component}Properties"
    _DERIVED[properties] = (component, ("geometry",))
    return RawResponseSchema(
        {
            "type": "object",
            "description": "A GeoJSON Feature (RFC 7946): lon/lat WGS 84, no `crs` member.",
            "required": ["type", "id", "geometry", "properties"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "id": {"type": "integer"},
                "geometry": {"allOf": [_ref("GeoJSONGeometry")], "nullable": True},
                "properties": _ref(properties),
            },
        }
    )


def geojson_collection_schema(component: str) -> dict[str, Any]:
    """A page of ``component`` items as a FeatureCollection with pagination members."""
    return RawResponseSchema(
        {
            "type": "object",
            "description": (
                "A GeoJSON FeatureCollection (RFC 7946). Pagination travels in the foreign "
                "members `count`, `next` and `previous`, as in the JSON list."
            ),
            "required": ["type", "count", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "count": {"type": "integer"},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "features": {"type": "array", "items": dict(geojson_feature_schema(component))},
            },
        }
    )


def geojson_geometry_schema() -> dict[str, Any]:
    """One of the seven GeoJSON geometry objects, with the right coordinate nesting."""
    position: dict[str, Any] = {
        "type": "array",
        "items": {"type": "number", "minimum": -180, "maximum": 180},
        "minItems": 2,
        "maxItems": 2,
        "description": "[longitude, latitude] in WGS 84 degrees.",
    }

    def nested(depth: int) -> dict[str, Any]:
        schema = position
        for _ in range(depth):
            schema = {"type": "array", "items": schema, "minItems": 1}
        return schema

    def simple(kind: str, depth: int) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                # A pattern, not a one-value enum: the enum postprocessing would merge those.
                "type": {"type": "string", "pattern": f"^{kind}$"},
                "coordinates": nested(depth),
            },
        }

    kinds = {
        "Point": 0,
        "MultiPoint": 1,
        "LineString": 1,
        "MultiLineString": 2,
        "Polygon": 2,
        "MultiPolygon": 3,
    }
    simples = [simple(kind, depth) for kind, depth in kinds.items()]
    collection = {
        "type": "object",
        "required": ["type", "geometries"],
        "properties": {
            "type": {"type": "string", "pattern": "^GeometryCollection$"},
            "geometries": {"type": "array", "items": {"oneOf": simples}, "minItems": 1},
        },
    }
    return {
        "description": (
            "A GeoJSON geometry (RFC 7946) in WGS 84 longitude/latitude, without `crs`."
        ),
        "oneOf": [*simples, collection],
        "example": {"type": "Point", "coordinates": [4.8357, 45.764]},
    }


def geojson_components_hook(result: dict[str, Any], generator: Any, **kwargs: Any) -> Any:
    """Postprocessing hook: add the derived ``…Properties`` components of GeoJSON features."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, (source, dropped) in _DERIVED.items():
        if name in schemas or source not in schemas:
            continue
        base = schemas[source]
        schemas[name] = {
            **base,
            "properties": {k: v for k, v in base["properties"].items() if k not in dropped},
            "required": [k for k in base.get("required", []) if k not in dropped],
        }
    return result


class QuartierAutoSchema(AutoSchema):
    def _map_basic_serializer(self, serializer: Any, direction: str) -> Any:
        schema = super()._map_basic_serializer(serializer, direction)
        optional = getattr(serializer, "optional_fields", ())
        if optional and schema.get("required"):
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema

    def get_auth(self) -> list[dict[str, Any]]:
        auths = super().get_auth()
        public = any(getattr(p, "public_reads", False) for p in self.view.get_permissions())
        if public and self.method in permissions.SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths

    def _get_response_for_code(
        self,
        serializer: Any,
        status_code: Any,
        media_types: Any = None,
        direction: Any = "response",
    ) -> Any:
        if isinstance(serializer, RawResponseSchema):
            return {
                "description": "",
                "content": {media_type: {"schema": dict(serializer)} for media_type in media_types},
            }
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def _get_response_bodies(self, direction: Any = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        error = self._error_component()
        for code in self._error_codes():
            if code not in responses:
                responses[code] = {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": error}},
                }
        return responses

    def _error_component(self) -> dict[str, str]:
        component = self.resolve_serializer(ErrorSerializer, "response")
        return component.ref

    def _error_codes(self) -> list[str]:
        view, method = self.view, self.method
        has_body = method in ("POST", "PUT", "PATCH")
        codes = []
        if has_body or self._get_filter_parameters() or self._has_query_parameters():
            codes.append("400")
        perms = view.get_permissions()
        guarded = any(not isinstance(p, permissions.AllowAny) for p in perms)
        if guarded and (self._challenges() or method not in permissions.SAFE_METHODS):
            codes.append("401")
        if guarded and (method not in permissions.SAFE_METHODS or not self._public_reads()):
            codes.append("403")
        if "{" in self.path or self._get_pagination_parameters():
            codes.append("404")
        if has_body:
            codes.append("413")
        if view.get_throttles():
            codes.append("429")
        return codes

    def _challenges(self) -> bool:
        """Whether a failed authentication is a 401 (an authenticator names a scheme)."""
        for authenticator in self.view.get_authenticators():
            try:
                if authenticator.authenticate_header(self.view.request):
                    return True
            except Exception:  # an authenticator reading a request the schema view lacks
                return True
        return False

    def _public_reads(self) -> bool:
        return any(getattr(p, "public_reads", False) for p in self.view.get_permissions())

    def _has_query_parameters(self) -> bool:
        return any(
            isinstance(p, OpenApiParameter) and p.location == OpenApiParameter.QUERY
            for p in self.get_override_parameters()
        ) or bool(self._get_pagination_parameters())


def register_geometry_component(auto_schema: AutoSchema) -> dict[str, str]:
    component = ResolvedComponent(
        name="GeoJSONGeometry",
        type=ResolvedComponent.SCHEMA,
        object="GeoJSONGeometry",
        schema=geojson_geometry_schema(),
    )
    auto_schema.registry.register_on_missing(component)
    return component.ref


class GeoJSONGeometryFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "apps.core.api.fields.GeoJSONGeometryField"
    priority = 1  # before drf-spectacular's own rest_framework_gis extension

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> Any:
        return register_geometry_component(auto_schema)
