"""Option values: parsed strictly, so a typo fails loudly instead of checking less."""

from __future__ import annotations

import pytest

from flake8_flask_ctx.knowledge import Knowledge
from flake8_flask_ctx.knowledge.contexts import Tier
from flake8_flask_ctx.options.settings import DispatcherOption, Settings, SettingsError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("myapp.jobs.defer", DispatcherOption("myapp.jobs.defer", 0, "")),
        ("myapp.jobs.defer:2", DispatcherOption("myapp.jobs.defer", 2, "")),
        ("myapp.jobs.defer:job", DispatcherOption("myapp.jobs.defer", None, "job")),
        ("*.run_later:1", DispatcherOption("*.run_later", 1, "")),
    ],
)
def test_dispatcher_option_syntax(text: str, expected: DispatcherOption) -> None:
    assert DispatcherOption.parse(text) == expected


@pytest.mark.parametrize("text", ["my app.defer", "myapp.defer:1:2", "", "myapp..defer"])
def test_bad_dispatcher_options_are_errors(text: str) -> None:
    with pytest.raises(SettingsError):
        DispatcherOption.parse(text)


def test_bad_dotted_names_are_errors() -> None:
    with pytest.raises(SettingsError, match="--flask-ctx-request-locals"):
        Settings.from_values(request_locals=["tenancy.current-tenant"])


def test_knowledge_from_settings() -> None:
    settings = Settings.from_values(
        dispatchers=["myapp.jobs.defer", "*.run_later:1"],
        safe_wrappers=["myapp.ctx.with_request"],
        request_locals=["myapp.tenancy.current_tenant"],
        app_locals=["myapp.cache.cache"],
        server_name="true",
    )
    knowledge = Knowledge.build(settings)
    assert knowledge.tier_of("myapp.tenancy.current_tenant") is Tier.REQUEST
    assert knowledge.tier_of("myapp.cache.cache") is Tier.APP
    assert knowledge.tier_of("flask.url_for") is Tier.APP
    assert knowledge.tier_of("flask.helpers.url_for") is Tier.APP
    assert "myapp" in knowledge.watched_packages
    assert "myapp" in knowledge.dispatch_packages
    assert "myapp.ctx.with_request" in knowledge.safe_wrappers
    assert {"defer", "run_later", "with_request"} <= set(knowledge.prefilter_words)
    default = Knowledge.build(Settings())
    assert default.tier_of("flask.url_for") is Tier.REQUEST
