"""What Flask's context-locals are, as data: their tiers and spellings, the guards and
wrappers that make reading them safe, the extension objects (Flask-SQLAlchemy's
``db.session``, ``Model.query``, a project's ``LocalProxy``) that are context-locals too,
the request-lifetime values (FCX210), and the Flask API that registers views and
streams responses.  Each row was checked against Flask's behaviour (SPEC section 1).
"""

from __future__ import annotations

import enum
from typing import Mapping, Tuple


class Tier(enum.Enum):
    """Which context a context-local needs.

    A request context always carries an application context, so anything that makes
    the request tier safe makes the app tier safe too (see ``GUARD_IMPLIES``).
    """

    REQUEST = "request"
    APP = "app"


#: Canonical qualified name -> tier (SPEC section 1).  ``flask.url_for`` is request
#: tier: outside a request it also needs ``SERVER_NAME``.
CONTEXT_LOCALS: Mapping[str, Tier] = {
    "flask.request": Tier.REQUEST,
    "flask.session": Tier.REQUEST,
    "flask.globals.request_ctx": Tier.REQUEST,
    "flask.flash": Tier.REQUEST,
    "flask.get_flashed_messages": Tier.REQUEST,
    "flask.send_file": Tier.REQUEST,
    "flask.send_from_directory": Tier.REQUEST,
    "flask.after_this_request": Tier.REQUEST,
    "flask.stream_with_context": Tier.REQUEST,
    "flask.copy_current_request_context": Tier.REQUEST,
    "flask.url_for": Tier.REQUEST,
    "flask_login.current_user": Tier.REQUEST,
    "flask_login.login_user": Tier.REQUEST,
    "flask_login.logout_user": Tier.REQUEST,
    "flask.current_app": Tier.APP,
    "flask.g": Tier.APP,
    "flask.globals.app_ctx": Tier.APP,
    "flask.render_template": Tier.APP,
    "flask.render_template_string": Tier.APP,
    "flask.stream_template": Tier.APP,
    "flask.stream_template_string": Tier.APP,
    "flask.get_template_attribute": Tier.APP,
    "flask.jsonify": Tier.APP,
    "flask.make_response": Tier.APP,
}


#: Other qualified spellings of the same objects (Flask's own submodules).
NAME_ALIASES: Mapping[str, str] = {
    "flask.globals.request": "flask.request",
    "flask.globals.session": "flask.session",
    "flask.globals.current_app": "flask.current_app",
    "flask.globals.g": "flask.g",
    "flask.request_ctx": "flask.globals.request_ctx",
    "flask.app_ctx": "flask.globals.app_ctx",
    "flask.helpers.flash": "flask.flash",
    "flask.helpers.get_flashed_messages": "flask.get_flashed_messages",
    "flask.helpers.send_file": "flask.send_file",
    "flask.helpers.send_from_directory": "flask.send_from_directory",
    "flask.helpers.stream_with_context": "flask.stream_with_context",
    "flask.helpers.url_for": "flask.url_for",
    "flask.helpers.make_response": "flask.make_response",
    "flask.helpers.get_template_attribute": "flask.get_template_attribute",
    "flask.ctx.after_this_request": "flask.after_this_request",
    "flask.ctx.copy_current_request_context": "flask.copy_current_request_context",
    "flask.templating.render_template": "flask.render_template",
    "flask.templating.render_template_string": "flask.render_template_string",
    "flask.templating.stream_template": "flask.stream_template",
    "flask.templating.stream_template_string": "flask.stream_template_string",
    "flask.json.jsonify": "flask.jsonify",
    "flask_login.utils.current_user": "flask_login.current_user",
    "flask_login.utils.login_user": "flask_login.login_user",
    "flask_login.utils.logout_user": "flask_login.logout_user",
}


#: Top-level packages whose imports can bind a context-local.  Only identifiers bound
#: by importing from these are ever resolved, which keeps name resolution cheap.
CONTEXT_LOCAL_PACKAGES: Tuple[str, ...] = ("flask", "flask_login")


def canonical_name(qualified_name: str) -> str:
    """Map any public spelling of a Flask object (or an attribute path under it, such
    as ``flask.globals.request.files``) to the one used in messages and tables."""
    if qualified_name in NAME_ALIASES:
        return NAME_ALIASES[qualified_name]
    head, _, rest = qualified_name.rpartition(".")
    while head:
        if head in NAME_ALIASES:
            return NAME_ALIASES[head] + qualified_name[len(head):]
        head, _, _ = head.rpartition(".")
    return qualified_name


#: Context-locals that are *objects* (proxies): their truth value is ``False`` when no
#: context is bound, which makes ``if request:`` a guard.  Functions are not proxies.
PROXY_OBJECTS = frozenset(
    {
        "flask.request",
        "flask.session",
        "flask.globals.request_ctx",
        "flask_login.current_user",
        "flask.current_app",
        "flask.g",
        "flask.globals.app_ctx",
    }
)


#: Calls whose truth says a context is bound (``if has_request_context():``).
GUARD_CALLS: Mapping[str, Tier] = {
    "flask.has_request_context": Tier.REQUEST,
    "flask.ctx.has_request_context": Tier.REQUEST,
    "flask.has_app_context": Tier.APP,
    "flask.ctx.has_app_context": Tier.APP,
}


#: A guard on one tier makes which tiers safe: a request context implies an app one.
GUARD_IMPLIES: Mapping[Tier, frozenset[Tier]] = {
    Tier.REQUEST: frozenset({Tier.REQUEST, Tier.APP}),
    Tier.APP: frozenset({Tier.APP}),
}


#: ``with <anything>.<method>(...):`` pushes these tiers for the body.  The receiver is
#: not checked: any Flask app object has these methods, and nothing else commonly does.
CONTEXT_MANAGER_METHODS: Mapping[str, frozenset[Tier]] = {
    "app_context": frozenset({Tier.APP}),
    "test_request_context": frozenset({Tier.REQUEST, Tier.APP}),
    # ``app.request_context(environ)``: a real request built from a WSGI environ
    # (OctoPrint serves one this way in a worker thread).
    "request_context": frozenset({Tier.REQUEST, Tier.APP}),
}


#: ``ctx.push()`` on a context object (``ctx = app.app_context()``) pushes it for the
#: rest of the block, as ``with ctx:`` does for its body.
CONTEXT_PUSH_METHOD = "push"

#: Other ways a statement enters a context object for the rest of its block:
#: ``ctx.__enter__()``, and ``stack.enter_context(ctx)`` of a ``contextlib.ExitStack``
#: (the context's argument position).
CONTEXT_ENTER_METHODS = frozenset({CONTEXT_PUSH_METHOD, "__enter__"})
CONTEXT_ENTERING_CALLS = frozenset({"enter_context"})


#: ``with app.test_request_context(...):`` builds a fake request (FCX420).
FAKE_REQUEST_METHODS = frozenset({"test_request_context"})

#: Request-tier names that read nothing of a fake request's data: building a URL inside
#: ``test_request_context()`` is what that context is for outside a request (Superset's
#: ``get_url_path``), not FCX420's silent wrong data.
FAKE_REQUEST_HARMLESS = frozenset({"flask.url_for"})


#: Wrappers that carry the request context into the callable (decorator or call).
SAFE_WRAPPERS = frozenset(
    {"flask.copy_current_request_context", "flask.ctx.copy_current_request_context"}
)


#: ``copy_context().run`` as the dispatched callable: the contextvars travel with it.
CONTEXT_COPIERS = frozenset({"contextvars.copy_context"})


#: ``functools.partial(fn, ...)`` dispatches ``fn``.
PARTIAL_FACTORIES = frozenset({"functools.partial"})


def frozen(*names: str) -> frozenset[str]:
    return frozenset(names)


#: Streaming responses (FCX300): classes whose first argument is the body.
RESPONSE_CLASSES = frozen(
    "flask.Response", "flask.wrappers.Response", "werkzeug.Response",
    "werkzeug.wrappers.Response", "werkzeug.wrappers.response.Response",
    "werkzeug.sansio.response.Response",
)


#: ``app.response_class(...)`` / ``current_app.response_class(...)``.
RESPONSE_CLASS_ATTRIBUTE = "response_class"


#: Wrapping the generator (or decorating its function) keeps the request context.
STREAM_WRAPPERS = frozen("flask.stream_with_context", "flask.helpers.stream_with_context")


#: Decorator methods that register a view (the view's return value is the response).
VIEW_DECORATOR_METHODS = frozen("route", "get", "post", "put", "patch", "delete")
#: ``make_response(body)``: a response whose first argument is the body (a generator is
#: streamed, as with ``Response``).
RESPONSE_FACTORIES = frozen("flask.make_response", "flask.helpers.make_response")
#: ``app.add_url_rule(rule, endpoint, view_func)`` registers a view without a decorator.
VIEW_REGISTRATION_METHOD = "add_url_rule"
#: Class-based views: their HTTP-method functions (and ``dispatch_request``) are views.
VIEW_CLASSES = frozen("flask.views.MethodView", "flask.views.View")
VIEW_CLASS_METHODS = frozen(
    "get", "post", "put", "patch", "delete", "head", "options", "dispatch_request"
)


#: Methods of a Flask app or blueprint that register a callable Flask calls later,
#: inside a request or app context (``app.before_request(load_user)``,
#: ``app.add_url_rule("/", view_func=index)``): passing the function there is not a
#: call, so the analysis does not follow it from the registering body.
CONTEXT_REGISTRATION_METHODS = frozen(
    "add_url_rule", "before_request", "after_request", "teardown_request",
    "teardown_appcontext", "context_processor", "url_value_preprocessor", "url_defaults",
    "errorhandler", "register_error_handler", "before_app_request", "after_app_request",
    "teardown_app_request", "app_context_processor", "app_errorhandler",
    "app_url_value_preprocessor", "app_url_defaults", "template_filter",
    "add_template_filter", "template_global", "add_template_global", "template_test",
    "add_template_test", "app_template_filter", "add_app_template_filter",
    "app_template_global", "add_app_template_global", "app_template_test",
    "add_app_template_test", "shell_context_processor",
)


#: Extension objects whose attributes are context-locals, by the class that builds the
#: object (``db = SQLAlchemy()``; the object itself is a plain module global).
#: Flask-SQLAlchemy 3: ``db.session`` is a ``scoped_session`` keyed by the current app
#: context (using it -- ``db.session.add(...)`` -- raises "Working outside of application
#: context"), and ``db.engine`` looks up ``current_app``.
_SQLALCHEMY_LOCALS: Mapping[str, Tier] = {"session": Tier.APP, "engine": Tier.APP}


EXTENSION_OBJECTS: Mapping[str, Mapping[str, Tier]] = {
    "flask_sqlalchemy.SQLAlchemy": _SQLALCHEMY_LOCALS,
    "flask_sqlalchemy.extension.SQLAlchemy": _SQLALCHEMY_LOCALS,
}


#: Attributes of those objects that are model base classes, and the class attributes
#: their subclasses get: ``class User(db.Model)`` makes ``User.query`` open
#: ``db.session()``, which needs an app context.
EXTENSION_MODEL_BASES: Mapping[str, Tuple[str, Mapping[str, Tier]]] = {
    "flask_sqlalchemy.SQLAlchemy": ("Model", {"query": Tier.APP}),
    "flask_sqlalchemy.extension.SQLAlchemy": ("Model", {"query": Tier.APP}),
}


#: ``name = LocalProxy(...)``: a project's own context-local, found at its definition.
#: Its tier is what the wrapped callable reads (request tier when that cannot be told:
#: the common case is a per-request object).
LOCAL_PROXY_CLASSES = frozen("werkzeug.local.LocalProxy", "werkzeug.LocalProxy")


#: Last words of the calls above: a cheap text gate before resolving a binding.
EXTENSION_FACTORY_WORDS = frozenset({"SQLAlchemy", "LocalProxy"})


#: What a project module's text must contain to be parsed in search of an extension
#: object (or a model deriving from its ``Model``), of a ``LocalProxy``.
EXTENSION_WORDS: Tuple[str, ...] = ("SQLAlchemy", "Model")


LOCAL_PROXY_WORDS: Tuple[str, ...] = ("LocalProxy",)


#: Attributes through which a model class yields its instances (``for o in
#: Order.query.filter(...)``): the loop variable is an ``Order``.
QUERY_ATTRIBUTES = frozenset({"query"})
#: Query methods that return another lazy query (nothing runs until it is iterated or
#: evaluated): ``Product.query.filter(...).order_by(...)``, ``db.session.query(X)``.
#: Such a query reads ``db.session`` -- the app context -- when it finally runs (FCX210).
LAZY_QUERY_METHODS = frozenset({
    "query", "filter", "filter_by", "order_by", "limit", "offset", "join", "outerjoin",
    "options", "group_by", "having", "distinct", "with_entities", "select_from", "where",
    "yield_per", "execution_options",
})
#: Query methods that hand back one row (an instance of the queried model).
ONE_ROW_METHODS = frozenset({
    "get", "first", "one", "one_or_none", "get_or_404", "first_or_404",
})
#: Calls of the session (or of Flask-SQLAlchemy's ``db``) that take the model first and
#: return one of its rows: ``db.session.get(Project, 1)``, ``db.get_or_404(Project, 1)``.
MODEL_FIRST_METHODS = frozenset({"get", "get_or_404"})
#: How a relationship is declared (``db.relationship``, ``sqlalchemy.orm.relationship``).
RELATIONSHIP_FACTORIES = frozenset({"relationship", "dynamic_loader"})
#: Attribute names that can be an extension context-local (``db.session``, ``.query``).
EXTENSION_ATTRIBUTES = frozenset(
    {a for table in EXTENSION_OBJECTS.values() for a in table}
    | {a for _, table in EXTENSION_MODEL_BASES.values() for a in table}
)


#: Request attributes that read the body: a worker that reads them may run after the
#: response was sent, when a real server has already consumed or closed the body, so
#: ``--fix`` does not wrap it (the data must be read in the view).
#: Functions that set an application up, where no request is ever active (a worker
#: started there never has one to copy).
STARTUP_FUNCTIONS = frozenset({"create_app", "make_app", "build_app", "main"})


#: Decorator methods that make a function a CLI command (``@app.cli.command()``,
#: ``@click.command()``, ``@manager.command``): it runs outside any request.
STARTUP_DECORATOR_METHODS = frozenset({"command"})


REQUEST_BODY_ATTRIBUTES = frozenset(
    {"json", "get_json", "data", "get_data", "form", "files", "values", "stream",
     "input_stream"}
)


#: Request-lifetime objects (FCX210): closed or consumed when the request ends.
#: Subscripting ``flask.request.files``; calling these; reading these attributes.
LIFETIME_SUBSCRIPTS = frozen("flask.request.files")


LIFETIME_CALLS = frozen(
    "flask.request.files.get", "flask.request.files.getlist",
    "flask.request._get_current_object",
)


LIFETIME_ATTRIBUTES = frozen("flask.request.stream", "flask.request.input_stream")


#: ``for f in request.files.values():`` -- each ``f`` is an uploaded file.
LIFETIME_ITERABLES = frozen(
    "flask.request.files.values", "flask.request.files.getlist",
    "flask.request.files.listvalues",
)


#: The correct way to hand the app to a worker (never FCX200).
REAL_OBJECT_METHOD = "_get_current_object"
