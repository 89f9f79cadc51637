"""Celery tasks of the broadcast app: posting to X and its recovery sweep."""

from celery import shared_task

from broadcast import posting


@shared_task(name="broadcast.post_watch_link", ignore_result=True)
def post_watch_link(xpost_id):
    """One attempt at an XPost (the go-live watch link, or a chat echo). The database
    decides what to do, so a redelivered or duplicated message does no harm."""
    post = posting.run_post_attempt(xpost_id=xpost_id)
    return post.state if post is not None else None


@shared_task(name="broadcast.sweep_x_posts", ignore_result=True)
def sweep_x_posts():
    """Every 15 s (beat): recover posts left by a lost message or a killed worker."""
    return posting.sweep_stuck_posts()
