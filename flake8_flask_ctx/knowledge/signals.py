"""Signal libraries, as data: a signal's ``send`` runs its receivers synchronously in
the sending thread (``engine/signals.py`` follows them from a worker)."""

#: Calls that make a signal (``blinker.signal("done")``).
SIGNAL_FACTORIES = frozenset({"blinker.signal", "blinker.base.signal"})
#: Classes whose instances make signals (``Namespace().signal("done")``; Flask
#: re-exports blinker's as ``flask.signals.Namespace``).
SIGNAL_NAMESPACES = frozenset({
    "blinker.Namespace", "blinker.base.Namespace", "flask.signals.Namespace",
})

#: Where Flask's own signals live; ``flask`` re-exports each under the same name.
FLASK_SIGNAL_MODULE = "flask.signals"
#: Flask's own signals: Flask sends them itself (in the thread that does the work), and
#: application code may send them too (``got_request_exception.send(app, ...)``).
FLASK_SIGNALS = frozenset({
    "template_rendered", "before_render_template", "request_started", "request_finished",
    "request_tearing_down", "got_request_exception", "appcontext_tearing_down",
    "appcontext_pushed", "appcontext_popped", "message_flashed",
})
#: Flask functions that send Flask's signals in the calling thread, before they return:
#: rendering a template sends ``before_render_template`` and ``template_rendered``, so
#: their receivers run wherever the template is rendered -- in a worker too.
IMPLICIT_SENDS = {
    "flask.render_template": ("before_render_template", "template_rendered"),
    "flask.templating.render_template": ("before_render_template", "template_rendered"),
    "flask.render_template_string": ("before_render_template", "template_rendered"),
    "flask.templating.render_template_string": (
        "before_render_template", "template_rendered",
    ),
}
#: The last part of each name in ``IMPLICIT_SENDS`` (a cheap test before resolving).
IMPLICIT_SEND_WORDS = frozenset(name.rpartition(".")[2] for name in IMPLICIT_SENDS)
