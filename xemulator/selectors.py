"""Reads of the emulator's state."""

from django.db.models import Count, Q

from xemulator.models import Post, XUser


def user_by_id(user_id):
    return XUser.objects.filter(pk=str(user_id)).first()


def user_by_username(username):
    return XUser.objects.filter(username__iexact=username).first()


def users_with_post_counts():
    return XUser.objects.annotate(
        post_count=Count("posts", filter=Q(posts__deleted_at__isnull=True))
    ).order_by("username")


def live_posts(*, user, since_id=None, until_id=None, start_time=None, end_time=None):
    """The user's posts that are not deleted, newest first. IDs are 19-digit, time-ordered
    snowflakes, so they compare as strings."""
    posts = Post.objects.filter(author=user, deleted_at__isnull=True)
    if since_id:
        posts = posts.filter(id__gt=since_id)
    if until_id:
        posts = posts.filter(id__lt=until_id)
    if start_time:
        posts = posts.filter(created_at__gte=start_time)
    if end_time:
        posts = posts.filter(created_at__lte=end_time)
    return posts.order_by("-created_at", "-id")


def all_posts(*, user):
    return Post.objects.filter(author=user).order_by("-created_at", "-id")
