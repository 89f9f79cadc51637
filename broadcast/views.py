"""HTTP side of broadcasting: go-live page, watch page and the JSON state (the home page
and the broadcaster's page are in listing_views). Thin: the rules live in services and
selectors."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from broadcast import selectors, services
from broadcast.models import Broadcast
from broadcast.summary import broadcast_summary, share_intent_url
from safety.notices import not_live_until
from safety.selectors import active_restriction


def _publisher_urls(request, broadcast):
    """Where publisher.js sends a broadcast, ends it, reads its summary, and where viewers
    watch it; with its title, which the page shows while live."""
    return {
        "slug": broadcast.slug,
        "title": broadcast.title,
        "publish_path": f"/ws/b/{broadcast.slug}/publish/",
        "end_url": reverse("broadcast:end", kwargs={"slug": broadcast.slug}),
        "api_url": reverse("broadcast:api", kwargs={"slug": broadcast.slug}),
        "watch_url": request.build_absolute_uri(broadcast.get_absolute_url()),
    }


def player_strings():
    """What player.js says, translated here: static JS has no catalogue of its own."""
    return {
        "created": _("Not started yet. The video starts by itself when the broadcaster goes live."),
        "connecting": _("Connecting…"),
        "live": _("Live"),
        "waiting": _("Waiting for the picture…"),
        "reconnecting": _("Reconnecting to the broadcaster…"),
        "ended": _("This broadcast has ended."),
        "ended_removed": _("This broadcast was removed for breaking the rules."),
        "lost": _("Connection lost. Trying again…"),
        "unsupported": _(
            "This browser cannot play live video (no Media Source Extensions). "
            "Try a recent Chrome, Edge, Firefox, or Safari on iOS 17.1 or later."
        ),
        "not_found": _("This broadcast does not exist."),
        "too_many": _(
            "Too many players are open from your network. Close some; this one starts "
            "by itself when a place is free."
        ),
        "viewers": _("watching"),
        "play": _("Play"),
        "pause": _("Pause"),
        "fullscreen": _("Fullscreen"),
        "exit_fullscreen": _("Exit fullscreen"),
    }


@never_cache
def watch(request, slug):
    broadcast = get_object_or_404(Broadcast.objects.select_related("owner"), slug=slug)
    strings = player_strings()
    ended = broadcast.state == Broadcast.State.ENDED
    # A broadcast that has ended says so in the page itself, before (and without) the
    # script, and with the reason when moderation ended it.
    status = strings.get(f"ended_{broadcast.end_reason}", strings["ended"]) if ended else ""
    return render(
        request,
        "broadcast/watch.html",
        {
            "broadcast": broadcast,
            "ended": ended,
            "player_status": status or strings["connecting"],
            "player_strings": strings,
            "is_owner": request.user.is_authenticated and request.user.pk == broadcast.owner_id,
        },
    )


class GoLiveForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=140, strip=True)
    visibility = forms.ChoiceField(
        label=gettext_lazy("Who can find it"),
        choices=Broadcast.Visibility.choices,
        initial=Broadcast.Visibility.PUBLIC,
    )
    tell_followers = forms.BooleanField(
        label=gettext_lazy("Tell my followers on X"), required=False, initial=True
    )
    show_picture = forms.BooleanField(
        label=gettext_lazy("Show the live picture on link cards"), required=False, initial=True
    )


def publisher_strings():
    """What publisher.js says, translated here: static JS has no catalogue of its own."""
    idle = settings.BROADCAST_IDLE_TIMEOUT
    return {
        "unsupported": _(
            "This browser cannot broadcast: it lacks MediaRecorder with WebM (VP8/Opus) or "
            "WebSockets. Try a recent Chrome, Edge or Firefox."
        ),
        "denied": _(
            "Camera or microphone access was refused. Allow them in your browser's site "
            "settings, then press Retry."
        ),
        "missing": _("No camera or microphone was found. Plug one in, then press Retry."),
        "busy": _(
            "The camera or microphone is in use by another application. Close it, then press Retry."
        ),
        "device_error": _("The camera or microphone could not be started. Press Retry."),
        "needs_camera": _("Going live needs a working camera and microphone."),
        "camera_off": _("Camera off"),
        "ready": _("Ready"),
        "starting": _("Starting…"),
        "connecting": _("Connecting…"),
        "live": _("Live"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "weak": _("Your connection is weak: the quality was lowered to keep the delay short."),
        "skipping": _("Your connection cannot keep up: some video was skipped."),
        "ended": _("Your broadcast has ended."),
        "ended_removed": _(
            "Your broadcast was removed for breaking the rules. Your notices say which rule "
            "and how to appeal."
        ),
        "ended_restricted": _(
            "Your broadcast was ended: OnAir's moderators restricted your account from going "
            "live for a while. Your notices say why and until when."
        ),
        "ended_banned": _("Your broadcast was ended: your account was banned from OnAir."),
        "already_publishing": _("This broadcast is already being sent from another tab or device."),
        "take_over": _("Send from here instead"),
        "resume": _(
            "You have a broadcast that is live or about to start. Send it from this page, "
            "or start a new one below instead."
        ),
        "taken_over": _("This broadcast is now being sent from another tab or device."),
        "not_allowed": _("You cannot go live from this account."),
        "bad_media": _("The server could not read the video this browser sent."),
        "start_failed": _("The broadcast could not be started. Try again."),
        "camera": _("Camera"),
        "microphone": _("Microphone"),
        "end_failed": _("The broadcast could not be ended. Check your connection and try again."),
        "copied": _("Copied"),
        "copy_failed": _("Could not copy: select the link and copy it yourself."),
        "mute": _("Mute microphone"),
        "unmute": _("Unmute microphone"),
        "switch_failed": _("The other camera could not be started; you are still on this one."),
        "away": _(
            "This page is in the background: your camera may pause, and viewers may see a "
            "frozen picture. Come back and it carries on; if no video reaches OnAir for "
            "%(seconds)s seconds, the broadcast ends."
        )
        % {"seconds": idle},
        "back": _("You are back. Viewers may have seen a frozen picture for %(seconds)s seconds."),
        "title_away": _("Live, in the background"),
        "summary_of": _("“%(title)s” is over."),
    }


def _restricted(refusal):
    return JsonResponse(
        {
            "type": "error",
            "code": refusal.code,
            "until": refusal.until.isoformat(),
            "message": str(refusal),
        },
        status=403,
    )


@login_required
@never_cache
def go_live(request):
    """GET: the broadcaster page. POST (from publisher.js): create the broadcast, live."""
    restriction = active_restriction(request.user)
    allowed = restriction is None and services.user_may_broadcast(request.user)
    if request.method == "POST":
        if restriction is not None:
            return _restricted(services.Restricted(restriction))
        if not allowed:
            return JsonResponse(
                {"type": "error", "code": "not_allowed", "message": _("You cannot go live.")},
                status=403,
            )
        form = GoLiveForm(request.POST)
        if not form.is_valid():
            return JsonResponse(
                {"type": "error", "code": "invalid", "errors": form.errors.get_json_data()},
                status=400,
            )
        try:
            broadcast = services.create_broadcast(owner=request.user, **form.cleaned_data)
        except services.Restricted as refusal:  # restricted a moment ago
            return _restricted(refusal)
        return JsonResponse(_publisher_urls(request, broadcast), status=201)
    live = selectors.current_broadcast_of(request.user)
    resume = live and {
        **_publisher_urls(request, live),
        "started_at": live.started_at.isoformat() if live.started_at else None,
    }
    share_intent = live and share_intent_url(title=live.title, watch_url=resume["watch_url"])
    return render(
        request,
        "broadcast/go_live.html",
        {
            "form": GoLiveForm(),
            "allowed": allowed,
            "publisher_strings": publisher_strings(),
            "xpost_module": static("js/xpost_status.js"),
            "live_broadcast": live,
            "resume": resume,
            "share_intent": share_intent,
            "restriction": restriction,
            "restriction_sentence": restriction and not_live_until(restriction.until),
        },
    )


@require_POST
def end(request, slug):
    """The End button (over HTTP, so it works while the publish socket is down). Answers
    with the summary the page shows: duration, peak viewers, chat messages."""
    broadcast = get_object_or_404(Broadcast, slug=slug)
    if not request.user.is_authenticated:
        raise PermissionDenied
    services.end_broadcast_by_owner(broadcast=broadcast, user=request.user)
    broadcast.refresh_from_db()
    return JsonResponse(
        {"slug": slug, "state": broadcast.state, "summary": broadcast_summary(broadcast)}
    )


@require_GET
@never_cache
def broadcast_api(request, slug):
    broadcast = selectors.broadcast_by_slug(slug)
    if broadcast is None:
        return JsonResponse(
            {"type": "error", "code": "not_found", "message": _("No such broadcast.")}, status=404
        )
    body = selectors.broadcast_state(broadcast)
    if request.user.is_authenticated and request.user.pk == broadcast.owner_id:
        body["summary"] = broadcast_summary(broadcast)  # the owner's eyes only
    return JsonResponse(body)
