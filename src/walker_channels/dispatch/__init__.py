"""The built-in dispatchers: what the web layer does with a message it accepted.

A :class:`~walker_channels.ports.Dispatcher` gets the queued message's id and conversation
key after :meth:`~walker_channels.services.ConversationService.accept`. The inbox stays the
record: a dispatch is a hint, and the sweeper finishes what a lost one left behind.

- :class:`BackgroundDispatcher` (the default): answer after the response is sent.
- :class:`InlineDispatcher`: answer before the response is sent.
- :class:`PollingDispatcher`: do not answer here; wake the ``walker-channels worker``
  processes (PostgreSQL ``NOTIFY``, or in-process when they share it).

``WALKER_WEBHOOK_PROCESSING`` (``background``, ``inline``, ``queue``) picks one of them when
:func:`~walker_channels.app.build_services` is given no ``dispatcher``. Task engines plug in
the same way (``walker_channels.contrib.celery``, ``.taskiq``).
"""

from __future__ import annotations

from walker_channels.dispatch.background import BackgroundDispatcher
from walker_channels.dispatch.inline import InlineDispatcher
from walker_channels.dispatch.polling import PollingDispatcher

__all__ = [
    "BackgroundDispatcher",
    "InlineDispatcher",
    "PollingDispatcher",
]
