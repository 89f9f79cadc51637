"""Celery tasks of the broadcast app: posting to X, deleting posts from X, and their
recovery sweep."""

from celery import shared_task
from django.contrib.auth import get_user_model

from broadcast import post_deletion, posting


@shared_task(name="broadcast.post_watch_link", ignore_result=True)
def post_watch_link(xpost_id):
    """One attempt at an XPost (the go-live watch link, or a chat echo). The database
    decides what to do, so a redelivered or duplicated message does no harm."""
    post = posting.run_post_attempt(xpost_id=xpost_id)
    return post.state if post is not None else None


@shared_task(name="broadcast.delete_x_post", ignore_result=True)
def delete_x_post(xpost_id):
    """One attempt at deleting an XPost from X; the database decides, as for posting."""
    post = post_deletion.run_deletion_attempt(xpost_id=xpost_id)
    return post.deletion_state if post is not None else None


@shared_task(name="broadcast.forget_x_tokens", ignore_result=True)
def forget_x_tokens(user_id, recheck=0):
    """Delete a user's X tokens once none of their posts waits for deletion."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return True  # the account is gone, and its tokens with it
    return post_deletion.forget_tokens_when_posts_deleted(user=user, recheck=recheck)


@shared_task(name="broadcast.sweep_x_posts", ignore_result=True)
def sweep_x_posts():
    """Every 15 s (beat): recover posts and deletions left by a lost message or a killed
    worker."""
    return {
        "posts": posting.sweep_stuck_posts(),
        "deletions": post_deletion.sweep_stuck_deletions(),
    }
