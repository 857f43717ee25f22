"""The beta.gouv.fr community bot.

The core (knowledge, search, answers, eligibility, registry) knows no chat; the front ends
(``bot.frontends.console.chat``, ``bot.frontends.slack``) are thin adapters over :class:`bot.engine.Engine`.
"""

__version__ = "0.2.0"
