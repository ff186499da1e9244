"""Actions on calls."""

from voice import bandwidth
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
