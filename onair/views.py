"""Project-level pages: rules, privacy, and the styled error pages."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from onair import page_facts


def rules(request):
    return render(
        request,
        "pages/rules.html",
        {**page_facts.periods(), "reasons": page_facts.reasons()},
    )


def privacy(request):
    return render(request, "pages/privacy.html", page_facts.periods())


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def csrf_failure(request, reason=""):
    """A form refused by the CSRF check (a page left open too long, cookies blocked): the
    403 page says what to do; the reason goes to the log only (Django logs it)."""
    return render(request, "errors/403.html", {"csrf_failed": True}, status=403)


def error_500(request):
    # Rendered without the request: no context processor may touch a broken database.
    return HttpResponseServerError(loader.render_to_string("errors/500.html"))
