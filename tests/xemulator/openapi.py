"""Validate emulator traffic against X's official OpenAPI document (v2.167).

The document is kept in the repository, gzipped (tests/xemulator/spec/, MIT licence).
`schema_for_response` picks the schema for path + method + status (the "default"
response for error statuses) and the response's content type; $refs resolve into the
document's components.

One gap of the document, handled openly: X answers 401, 403, 429 and 5xx with RFC 7807
"about:blank" problems ({"title", "type": "about:blank", "status", "detail"}), which the
document's `Problem` union (typed problems only) does not list. Those bodies are checked
against the members every problem in the document shares (title, detail, type, status,
with the document's own types), with type "about:blank" and status equal to the HTTP
status.
"""

import gzip
import json
from functools import cached_property
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parent / "spec" / "x-openapi-2.167.json.gz"
SPEC_URI = "urn:x-api:openapi"


class OpenApiSpec:
    def __init__(self, path=SPEC_PATH):
        self.document = json.loads(gzip.decompress(Path(path).read_bytes()))
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)

    @property
    def version(self):
        return self.document["info"]["version"]

    def validator(self, schema):
        return Draft202012Validator(schema, registry=self.registry)

    def ref(self, pointer):
        """A schema that points into the document: '#/components/schemas/Post'."""
        return {"$ref": f"{SPEC_URI}{pointer}"}

    def operation(self, path, method):
        return self.document["paths"][path][method.lower()]

    def schema_for_response(self, path, method, status, content_type):
        """A schema pointing at the response schema of path + method + status, falling
        back to the operation's "default" response (X's errors)."""
        responses = self.operation(path, method)["responses"]
        key = str(status) if str(status) in responses else "default"
        media = content_type.split(";")[0].strip()
        content = responses[key]["content"]
        assert media in content, f"{method} {path} {status}: {media} not in {list(content)}"
        return self.ref(
            pointer("paths", path, method.lower(), "responses", key, "content", media, "schema")
        )

    def schema_for_request(self, path, method):
        return self.ref(
            pointer(
                "paths",
                path,
                method.lower(),
                "requestBody",
                "content",
                "application/json",
                "schema",
            )
        )

    @cached_property
    def shared_problem_members(self):
        """title/detail/type/status as typed by every problem schema in the document."""
        problems = [
            self.document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
            for ref in self.document["components"]["schemas"]["Problem"]["oneOf"]
        ]
        members = {}
        for name in ("title", "detail", "type", "status"):
            types = {p["properties"][name]["type"] for p in problems if name in p["properties"]}
            assert len(types) == 1, f"problem member {name} is typed {types}"
            members[name] = {"type": types.pop()}
        return members

    def about_blank_schema(self, status):
        properties = dict(self.shared_problem_members)
        properties["type"] = {**properties["type"], "const": "about:blank"}
        properties["status"] = {**properties["status"], "const": status}
        return {
            "type": "object",
            "required": ["title", "type", "status", "detail"],
            "properties": properties,
        }

    def check_response(self, path, method, response):
        """Raise jsonschema.ValidationError unless the response body fits the document."""
        body = response.json()
        content_type = response.headers.get("Content-Type", "application/json")
        if response.status_code >= 400 and body.get("type") == "about:blank":
            schema = self.about_blank_schema(response.status_code)
        else:
            schema = self.schema_for_response(path, method, response.status_code, content_type)
        self.validator(schema).validate(body)

    def check_request(self, path, method, body):
        self.validator(self.schema_for_request(path, method)).validate(body)


def pointer(*parts):
    """RFC 6901 JSON pointer: '#/paths/~12~1users~1me/get/...'"""
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def load_spec():
    return OpenApiSpec()
