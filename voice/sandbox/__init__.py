"""A local stand-in for Bandwidth's Voice API: its own process, its own port.

It serves Bandwidth's REST API, simulates calls in time, executes the BXML the application
returns, and sends webhooks as Bandwidth does. Nothing here imports Django, the console or the
rest of voice: the `manage.py sandbox` command turns settings into a SandboxConfig, gives the
demo scenario the console's demo numbers, and starts the server.
"""
