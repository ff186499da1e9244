"""Actions on calls."""

from voice import bandwidth, flows
from voice.models import Action, CallState
from voice.performers.done import Done, already_gone


def hang_up(action: Action) -> Done:
    try:
        bandwidth.client().hang_up(action.target)
    except bandwidth.PermanentError as error:
        return already_gone(error, "The call")
    return Done("Hung up.", 200)


def hang_up_applied(action: Action) -> Done | None:
    """Whether the call has ended, as Bandwidth says now."""
    try:
        info = bandwidth.client().get_call(action.target)
    except bandwidth.PermanentError as error:
        return already_gone(error, "The call", statuses=(404,))
    if CallState.from_bandwidth(info.state) == CallState.ENDED:
        return Done("Confirmed by reading the call at Bandwidth: it has ended.", 200)
    return None


def redirect(action: Action) -> Done:
    """Bandwidth sends the redirect webhook, answered with the chosen route's flow
    (flows.redirect_route). 409: the call is not answered yet, or has ended."""
    bandwidth.client().redirect(action.target, **flows.redirect_callbacks())
    return Done(f"Redirected to the route {action.params['route_name']}.", 200)
