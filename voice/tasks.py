"""Celery tasks: thin interfaces that take ids and call one function in voice."""

from celery import shared_task


@shared_task(bind=True, max_retries=None, acks_late=True)
def perform_action(self, action_id: int) -> None:
    from voice import actions

    attempt = actions.perform(action_id)
    if attempt.retry_in is not None:
        raise self.retry(countdown=attempt.retry_in)


@shared_task
def drop_stale_actions() -> int:
    from voice import actions

    return actions.drop_stale()
