"""Email templates: metadata, strict rendering, escaping, and templates from the host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from walker_channels.exceptions import ConfigurationError, InvalidInput, NotFound
from walker_channels.services.email import (
    TemplateCatalog,
    TemplateCategory,
    TemplateError,
    TemplateInfo,
    UnknownTemplate,
)
from walker_channels.services.email.template_filters import number, signed_pct

SAMPLES: dict[str, object] = {
    "recipient_name": "Ann",
    "brief_date": "2026-03-29",
    "analytics": [{"label": "Replies sent", "value": 1234, "unit": "", "change_pct": 5.0}],
    "campaign_updates": [{"name": "Spring sale", "status": "running", "summary": "On track"}],
    "recommendations": ["Answer the three open reviews first"],
    "notes": ["Recommendations are not available today."],
    "dashboard_url": "https://app.example.com/dashboard",
    "title": "Queue is growing",
    "message": "Twelve drafts wait for review.",
    "severity": "warning",
    "action_url": "https://app.example.com/review",
    "action_label": "Open the queue",
    "period": "week 13",
    "items": [{"label": "Messages", "value": 5120}],
    "intro": "Here is the week.",
    "closing": "See you next week.",
    "subject_line": "A note from the team",
    "body": "First paragraph.\n\nSecond paragraph.",
    "greeting": "Hi Ann,",
    "signature": "The team",
}
BUILTINS = TemplateCatalog()
NAMES = [info.name for info in BUILTINS.list()]


def write_template(
    directory: Path,
    name: str,
    *,
    text: str,
    html: str | None = None,
    meta: dict[str, object] | None = None,
) -> None:
    metadata = {
        "category": "other",
        "description": "A host template",
        "subject": "Hello {{ who }}",
        "required_variables": ["who"],
        **(meta or {}),
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in metadata.items()]
    (directory / f"{name}.toml").write_text("\n".join(lines) + "\n")
    (directory / f"{name}.txt.j2").write_text(text)
    if html is not None:
        (directory / f"{name}.html.j2").write_text(html)


def test_the_built_in_set_is_listed_with_its_metadata() -> None:
    listing = {info.name: info for info in BUILTINS.list()}

    assert sorted(listing) == ["alert", "custom_message", "daily_brief", "summary"]
    brief = listing["daily_brief"]
    assert brief.category is TemplateCategory.BRIEF
    assert brief.required_variables == ("recipient_name", "brief_date")
    assert "recommendations" in brief.optional_variables
    assert brief.subject == "Your daily brief for {{ brief_date }}"
    assert all(info.builtin and info.has_html and info.description for info in listing.values())
    assert json.loads(json.dumps([info.model_dump(mode="json") for info in listing.values()]))


@pytest.mark.parametrize("name", NAMES)
def test_every_built_in_template_renders_with_its_required_variables(name: str) -> None:
    info = BUILTINS.get(name)

    content = BUILTINS.render(name, {key: SAMPLES[key] for key in info.required_variables})

    assert content.subject
    assert content.text.strip()
    assert content.html is not None
    assert f"<title>{content.subject}</title>" in content.html


@pytest.mark.parametrize("name", NAMES)
def test_every_built_in_template_renders_every_declared_variable(name: str) -> None:
    info = BUILTINS.get(name)
    data = {key: SAMPLES[key] for key in (*info.required_variables, *info.optional_variables)}

    content = BUILTINS.render(name, data, list_unsubscribe_url="https://app.example.com/u/1")

    assert content.list_unsubscribe_url == "https://app.example.com/u/1"
    assert "https://app.example.com/u/1" in content.text
    assert content.html is not None
    assert 'href="https://app.example.com/u/1"' in content.html


def test_the_daily_brief_shows_each_section_it_is_given() -> None:
    content = BUILTINS.render(
        "daily_brief",
        {key: SAMPLES[key] for key in ("recipient_name", "brief_date", "analytics")},
    )

    assert content.subject == "Your daily brief for 2026-03-29"
    assert "Replies sent: 1,234 (+5%)" in content.text
    assert "CAMPAIGN UPDATES" not in content.text
    assert content.html is not None
    assert "Campaign updates" not in content.html


def test_html_in_the_data_is_escaped_in_the_html_part() -> None:
    attack = '<script>alert("x")</script><a href="https://evil.example">click</a>'

    content = BUILTINS.render("custom_message", {"subject_line": "Hi", "body": attack})

    assert content.html is not None
    assert "<script>" not in content.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in content.html
    assert 'href="https://evil.example"' not in content.html
    assert attack in content.text


def test_a_link_that_is_not_http_or_mailto_is_refused() -> None:
    data = {**{k: SAMPLES[k] for k in ("title", "message", "severity")}}

    with pytest.raises(TemplateError, match="wrong type or value"):
        BUILTINS.render("alert", {**data, "action_url": "javascript:alert(1)"})


def test_a_missing_required_variable_fails_and_names_it() -> None:
    with pytest.raises(TemplateError, match="needs the variables: brief_date") as failure:
        BUILTINS.render("daily_brief", {"recipient_name": "Ann"})

    assert isinstance(failure.value, InvalidInput)


def test_a_variable_the_template_does_not_take_is_refused() -> None:
    with pytest.raises(TemplateError, match="does not use the variables: recipient"):
        BUILTINS.render("custom_message", {"subject_line": "s", "body": "b", "recipient": "x"})


def test_an_unknown_template_is_not_found() -> None:
    with pytest.raises(UnknownTemplate, match="no email template named 'welcome'") as failure:
        BUILTINS.render("welcome", {})

    assert isinstance(failure.value, NotFound)


def test_the_subject_is_one_line() -> None:
    content = BUILTINS.render("custom_message", {"subject_line": "Two\r\nlines", "body": "b"})

    assert content.subject == "Two lines"


def test_host_templates_are_listed_next_to_the_built_in_ones(tmp_path: Path) -> None:
    write_template(
        tmp_path,
        "welcome",
        text="Welcome {{ who }}",
        html='{% extends "_layout.html.j2" %}{% block content %}Hi {{ who }}{% endblock %}',
    )

    catalog = TemplateCatalog(tmp_path)
    welcome = catalog.get("welcome")
    content = catalog.render("welcome", {"who": "<Ann>"})

    assert isinstance(welcome, TemplateInfo)
    assert (welcome.builtin, welcome.category) == (False, TemplateCategory.OTHER)
    assert len(catalog.list()) == len(NAMES) + 1
    assert content.subject == "Hello <Ann>"
    assert content.html is not None
    assert "Hi &lt;Ann&gt;" in content.html
    assert "<title>Hello &lt;Ann&gt;</title>" in content.html


def test_a_host_template_replaces_a_built_in_one_of_the_same_name(tmp_path: Path) -> None:
    write_template(tmp_path, "alert", text="Only text: {{ who }}")

    catalog = TemplateCatalog(tmp_path)
    content = catalog.render("alert", {"who": "ops"})

    assert catalog.get("alert").builtin is False
    assert (content.text, content.html) == ("Only text: ops", None)


def test_a_template_using_an_undeclared_variable_is_refused_at_load(tmp_path: Path) -> None:
    write_template(tmp_path, "welcome", text="Welcome {{ who }} from {{ company }}")

    with pytest.raises(ConfigurationError, match="does not declare: company"):
        TemplateCatalog(tmp_path)


def test_a_missing_attribute_in_the_data_fails_clearly(tmp_path: Path) -> None:
    write_template(tmp_path, "welcome", text="Welcome {{ who.name }}")

    with pytest.raises(TemplateError, match="has no attribute 'name'"):
        TemplateCatalog(tmp_path).render("welcome", {"who": {}})


@pytest.mark.parametrize(
    ("name", "text", "meta", "problem"),
    [
        ("welcome", "{{ who }}", {"category": "newsletter"}, "metadata"),
        ("welcome", "{{ who", {}, "does not compile"),
        ("welcome", "{{ who }}", {"optional_variables": ["subject"]}, "reserved"),
        ("welcome", "{{ who }}", {"optional_variables": ["who"]}, "metadata"),
    ],
)
def test_broken_host_templates_are_refused_at_load(
    tmp_path: Path, name: str, text: str, meta: dict[str, object], problem: str
) -> None:
    write_template(tmp_path, name, text=text, meta=meta)

    with pytest.raises(ConfigurationError, match=problem):
        TemplateCatalog(tmp_path)


def test_a_template_directory_that_does_not_exist_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        TemplateCatalog(tmp_path / "missing")


@pytest.mark.parametrize(
    ("value", "shown"), [(1234, "1,234"), (2.5, "2.5"), (2.345, "2.35"), (3.0, "3"), ("n", "n")]
)
def test_numbers_are_formatted_for_people(value: object, shown: str) -> None:
    assert number(value) == shown


@pytest.mark.parametrize(("value", "shown"), [(5, "+5%"), (-2.5, "-2.5%"), (0, "±0%"), (None, "")])
def test_changes_carry_their_sign(value: object, shown: str) -> None:
    assert signed_pct(value) == shown
