"""The Slack front end: Bolt ``AsyncApp`` over aiohttp (``app``), Block Kit layouts
(``blocks``), escaping (``escape``), answering off the event loop (``answering``) and the
HTTP / Socket Mode server (``server``).

Import the submodules directly; nothing here builds an app at import time.
"""
