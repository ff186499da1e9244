"""Actions on calls."""

from voice import bandwidth, flows
from voice.actions import Done, performer
from voice.models import Action, ActionKind


@performer(ActionKind.HANGUP)
def hang_up(action: Action) -> Done:
    try:
        bandwidth.client().hang_up(action.target)
    except bandwidth.PermanentError as error:
        # 404: Bandwidth no longer knows the call; 409: it has already ended. Either way the
        # operator's goal is met. https://dev.bandwidth.com/apis/voice/#tag/Calls/operation/updateCall
        if error.status in (404, 409):
            return Done(f"The call had already ended ({error}).", error.status)
        raise
    return Done("Hung up.", 200)


@performer(ActionKind.REDIRECT)
def redirect(action: Action) -> Done:
    """Bandwidth sends the redirect webhook, answered with the chosen route's flow
    (flows.redirect_route). 409: the call is not answered yet, or has ended."""
    bandwidth.client().redirect(action.target, **flows.redirect_callbacks())
    return Done(f"Redirected to the route {action.params['route_name']}.", 200)
