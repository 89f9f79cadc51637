"""Periodic jobs of the media relay, run by Celery beat (see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from broadcast import services


@shared_task(name="broadcast.end_idle_broadcasts")
def end_idle_broadcasts():
    """End live broadcasts whose publisher has sent nothing for 30 s, wherever it was."""
    return services.end_idle_broadcasts()
