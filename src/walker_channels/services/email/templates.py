"""Email templates: a catalog of Jinja2 templates with metadata, rendered to EmailContent.

A template ``name`` is three files in a directory: ``name.toml`` (metadata: category,
description, subject, required and optional variables), ``name.txt.j2`` (the plain-text part)
and, optionally, ``name.html.j2`` (the HTML part, autoescaped). Files starting with ``_``
are shared pieces (the HTML layout), not templates. The host's directory is searched before
the built-in one, so a host template replaces a built-in one of the same name.

Rendering is strict: a required variable that is missing, an unknown variable, or a name
the template uses but nobody defined is a :class:`TemplateError`, never an empty string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import Field

from walker_channels.exceptions import InvalidInput, NotFound
from walker_channels.models import EmailContent
from walker_channels.models.base import Frozen
from walker_channels.services.email.template_files import (
    TemplateCategory,
    TemplateSource,
    load_sources,
    template_loader,
)
from walker_channels.services.email.template_filters import FILTERS

BUILTIN_DIRECTORY = Path(__file__).with_name("templates")

RESERVED_VARIABLES = frozenset({"subject", "unsubscribe_url"})
"""Set by the renderer: the rendered subject line and the unsubscribe URL (or ``None``)."""


class TemplateError(InvalidInput):
    """A template cannot be rendered with the data given (the message names what to fix)."""


class UnknownTemplate(NotFound):
    """No template has that name."""


class TemplateInfo(Frozen):
    """A template's metadata, as the templates listing returns it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: TemplateCategory
    description: str
    subject: str = Field(min_length=1)
    """The subject line's own template (Jinja2, plain text)."""
    required_variables: tuple[str, ...] = ()
    optional_variables: tuple[str, ...] = ()
    has_html: bool
    builtin: bool


@dataclass(frozen=True, slots=True)
class _Compiled:
    info: TemplateInfo
    subject: jinja2.Template
    text: jinja2.Template
    html: jinja2.Template | None


class TemplateCatalog:
    """The built-in templates plus those in ``directory`` (which win on a name clash).

    Loading checks every template: its metadata, that it compiles, and that it uses no
    variable its metadata does not declare. Problems raise ConfigurationError.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        directories = [BUILTIN_DIRECTORY]
        if directory is not None:
            directories.insert(0, Path(directory))
        loader = template_loader(directories)
        self._html_env = _environment(loader, autoescape=True)
        self._text_env = _environment(loader, autoescape=False)
        sources = load_sources(directories, self._text_env, reserved=RESERVED_VARIABLES)
        self._templates = {source.name: self._compile(source) for source in sources}

    def list(self) -> list[TemplateInfo]:
        """Every template's metadata, by name."""
        return [self._templates[name].info for name in sorted(self._templates)]

    def get(self, name: str) -> TemplateInfo:
        """The metadata of template ``name``; raises UnknownTemplate."""
        return self._compiled(name).info

    def render(
        self,
        name: str,
        data: Mapping[str, object],
        *,
        list_unsubscribe_url: str | None = None,
    ) -> EmailContent:
        """Render template ``name`` with ``data`` into subject, text and HTML."""
        compiled = self._compiled(name)
        context = _context(compiled.info, data)
        context["unsubscribe_url"] = list_unsubscribe_url
        subject = " ".join(_run(compiled.info.name, compiled.subject, context).split())
        if not subject:
            raise TemplateError(f"template {name!r} rendered an empty subject")
        context["subject"] = subject
        text = _run(name, compiled.text, context)
        html = None if compiled.html is None else _run(name, compiled.html, context)
        return EmailContent(
            subject=subject, text=text, html=html, list_unsubscribe_url=list_unsubscribe_url
        )

    def _compiled(self, name: str) -> _Compiled:
        try:
            return self._templates[name]
        except KeyError:
            known = ", ".join(sorted(self._templates))
            raise UnknownTemplate(f"no email template named {name!r} (known: {known})") from None

    def _compile(self, source: TemplateSource) -> _Compiled:
        info = TemplateInfo(
            name=source.name,
            category=source.metadata.category,
            description=source.metadata.description,
            subject=source.metadata.subject,
            required_variables=source.metadata.required_variables,
            optional_variables=source.metadata.optional_variables,
            has_html=source.html_file is not None,
            builtin=source.builtin,
        )
        return _Compiled(
            info=info,
            subject=self._text_env.from_string(info.subject),
            text=self._text_env.get_template(source.text_file),
            html=None
            if source.html_file is None
            else self._html_env.get_template(source.html_file),
        )


def _environment(loader: jinja2.BaseLoader, *, autoescape: bool) -> jinja2.Environment:
    env = ImmutableSandboxedEnvironment(
        loader=loader,
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def _context(info: TemplateInfo, data: Mapping[str, object]) -> dict[str, object]:
    missing = [name for name in info.required_variables if name not in data]
    if missing:
        raise TemplateError(f"template {info.name!r} needs the variables: {', '.join(missing)}")
    declared = {*info.required_variables, *info.optional_variables}
    unknown = sorted(set(data) - declared)
    if unknown:
        raise TemplateError(
            f"template {info.name!r} does not use the variables: {', '.join(unknown)} "
            f"(it takes: {', '.join(sorted(declared)) or 'none'})"
        )
    return {**dict.fromkeys(info.optional_variables), **data}


def _run(name: str, template: jinja2.Template, context: Mapping[str, object]) -> str:
    try:
        return template.render(context)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"template {name!r} could not render: {exc.message}") from None
    except (TypeError, ValueError, jinja2.TemplateError) as exc:
        raise TemplateError(
            f"template {name!r} could not render: a variable has the wrong type or value "
            f"({type(exc).__name__})"
        ) from None
