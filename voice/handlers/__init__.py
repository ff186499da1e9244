"""One handler per Bandwidth event type, grouped by the object the event is about.

https://dev.bandwidth.com/docs/voice/webhooks lists them; voice/intake.py dispatches.
"""
