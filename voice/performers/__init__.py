"""What each kind of operator action does at Bandwidth, one module per area.

Each performer takes the claimed Action, makes its request through voice/bandwidth.py and
returns Done (what happened, in words, and Bandwidth's status); a BandwidthError it raises is
classified by voice.actions.perform (retry, fail).
"""

from voice.performers import calls  # noqa: F401
from voice.performers import conferences  # noqa: F401
from voice.performers import recordings  # noqa: F401
