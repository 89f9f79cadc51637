"""Celery tasks of the accounts app: finishing the deletion of accounts whose posts on X
were still being deleted, or whose data a legal hold kept."""

import logging

from celery import shared_task

from accounts import self_service

logger = logging.getLogger(__name__)

# Rechecks while X deletes the posts: 15 s, 30 s, ... then every 10 minutes. The hourly
# sweep covers a lost task and the end of a legal hold.
RECHECK_S = 15.0
RECHECK_MAX_S = 600.0


def finish_account_deletion_later(user_id, recheck=0):
    countdown = min(RECHECK_MAX_S, RECHECK_S * 2**recheck)
    try:
        finish_account_deletion.apply_async(args=[user_id, recheck], countdown=countdown)
    except Exception:
        # The row stays emptied and signed out; the hourly sweep finishes it.
        logger.exception("could not schedule the end of the deletion of account %s", user_id)


@shared_task(name="accounts.finish_account_deletion", ignore_result=True)
def finish_account_deletion(user_id, recheck=0):
    state = self_service.finish_account_deletion(user_id=user_id)
    if state == "waiting_for_x":
        finish_account_deletion_later(user_id, recheck + 1)
    return state


@shared_task(name="accounts.sweep_deleted_accounts", ignore_result=True)
def sweep_deleted_accounts():
    """Hourly (beat): finish every emptied account that nothing keeps any more."""
    states = [
        self_service.finish_account_deletion(user_id=user_id)
        for user_id in list(self_service.accounts_awaiting_deletion())
    ]
    return {state: states.count(state) for state in set(states)}
