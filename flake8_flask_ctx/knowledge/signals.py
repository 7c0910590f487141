"""Signal libraries, as data: a signal's ``send`` runs its receivers synchronously in
the sending thread (``engine/signals.py`` follows them from a worker)."""

#: Calls that make a signal (``blinker.signal("done")``).
SIGNAL_FACTORIES = frozenset({"blinker.signal", "blinker.base.signal"})
#: Classes whose instances make signals (``Namespace().signal("done")``; Flask
#: re-exports blinker's as ``flask.signals.Namespace``).
SIGNAL_NAMESPACES = frozenset({
    "blinker.Namespace", "blinker.base.Namespace", "flask.signals.Namespace",
})
