"""Which wake-up a set of stores shares between its web processes and its workers."""

from __future__ import annotations

import weakref

from walker_channels.app.runtime import StoreSet
from walker_channels.ports import Wakeup, WakeupSource
from walker_channels.wakeups import LocalWakeup

_shared: weakref.WeakKeyDictionary[object, Wakeup] = weakref.WeakKeyDictionary()


def wakeup_for(stores: StoreSet) -> Wakeup:
    """The stores' own wake-up (``NOTIFY`` on PostgreSQL), else one :class:`LocalWakeup` per
    inbox object: web and worker services built over the same in-memory stores in one process
    hear each other."""
    if isinstance(stores, WakeupSource):
        return stores.wakeup()
    try:
        found = _shared.get(stores.inbox)
        if found is None:
            found = _shared.setdefault(stores.inbox, LocalWakeup())
    except TypeError:  # an inbox that cannot be weakly referenced: no sharing, still correct
        return LocalWakeup()
    return found
