"""X's error bodies, as X sends them.

X answers authentication, permission, duplicate, rate-limit and server errors with
RFC 7807 `about:blank` problems, and request validation errors with its typed
`invalid-request` / `resource-not-found` problems (components/schemas in X's OpenAPI).
"""

from http import HTTPStatus

from django.http import JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
INVALID_REQUEST = "https://api.x.com/2/problems/invalid-request"
RESOURCE_NOT_FOUND = "https://api.x.com/2/problems/resource-not-found"


class XApiError(Exception):
    """An error answer of the X API; views turn it into the response."""

    def __init__(self, status, body, headers=None):
        super().__init__(body.get("detail") or body.get("error_description"))
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self):
        content_type = "application/json" if "error" in self.body else PROBLEM_CONTENT_TYPE
        response = JsonResponse(self.body, status=self.status, content_type=content_type)
        for name, value in self.headers.items():
            response[name] = value
        return response


def blank_problem(status, detail=None):
    """{"title": "Forbidden", "type": "about:blank", "status": 403, "detail": ...}"""
    title = HTTPStatus(status).phrase
    return {"title": title, "type": "about:blank", "status": status, "detail": detail or title}


def unauthorized():
    return XApiError(401, blank_problem(401))


def forbidden(detail=None):
    return XApiError(403, blank_problem(403, detail))


def duplicate_content():
    return forbidden("You are not allowed to create a Tweet with duplicate content.")


def invalid_request(parameter, value, message):
    return XApiError(
        400,
        {
            "errors": [{"parameters": {parameter: [str(value)]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID_REQUEST,
        },
    )


def not_found_problem(*, resource_type, value, parameter="id"):
    return {
        "value": str(value),
        "detail": f"Could not find {resource_type} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": str(value),
        "type": RESOURCE_NOT_FOUND,
    }


def oauth_error(error, description, status=400):
    """RFC 6749 5.2 token endpoint error."""
    headers = {"WWW-Authenticate": 'Basic realm="X"'} if status == 401 else {}
    headers["Cache-Control"] = "no-store"
    return XApiError(status, {"error": error, "error_description": description}, headers)
