"""Finding templates on disk and checking them before anything is rendered.

Each directory gets a loader prefix (``"0/"``, ``"1/"``, ...) so a template's own files come
from its own directory; shared pieces such as ``_layout.html.j2`` are found in the host's
directory first, then the built-in one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jinja2
from jinja2 import meta
from pydantic import Field, ValidationError, model_validator

from walker_channels.exceptions import ConfigurationError
from walker_channels.models.base import Frozen

_MAX_INCLUDE_DEPTH = 10


class TemplateCategory(StrEnum):
    """What a template is for."""

    BRIEF = "brief"
    ALERT = "alert"
    SUMMARY = "summary"
    MESSAGE = "message"
    OTHER = "other"


class TemplateMetadata(Frozen):
    """The contents of ``name.toml``."""

    category: TemplateCategory
    description: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    required_variables: tuple[str, ...] = ()
    optional_variables: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> TemplateMetadata:
        if set(self.required_variables) & set(self.optional_variables):
            raise ValueError("a variable cannot be both required and optional")
        return self


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """One template found on disk: its metadata and the loader names of its parts."""

    name: str
    metadata: TemplateMetadata
    text_file: str
    html_file: str | None
    builtin: bool


def template_loader(directories: Sequence[Path]) -> jinja2.BaseLoader:
    """Prefixed loaders per directory, then the plain directories for shared pieces."""
    prefixed = {str(i): jinja2.FileSystemLoader(str(path)) for i, path in enumerate(directories)}
    plain = [jinja2.FileSystemLoader(str(path)) for path in directories]
    return jinja2.ChoiceLoader([jinja2.PrefixLoader(prefixed), *plain])


def load_sources(
    directories: Sequence[Path], env: jinja2.Environment, *, reserved: frozenset[str]
) -> list[TemplateSource]:
    """Every template in ``directories`` (earlier ones win), checked against its metadata."""
    found: dict[str, TemplateSource] = {}
    for index, directory in enumerate(directories):
        if not directory.is_dir():
            raise ConfigurationError(f"the email template directory {directory} does not exist")
        builtin = index == len(directories) - 1
        for meta_file in sorted(directory.glob("[a-z]*.toml")):
            if meta_file.stem not in found:
                found[meta_file.stem] = _source(str(index), meta_file, builtin=builtin)
    for source in found.values():
        _check_variables(source, env, reserved)
    return list(found.values())


def _source(prefix: str, meta_file: Path, *, builtin: bool) -> TemplateSource:
    name = meta_file.stem
    try:
        metadata = TemplateMetadata.model_validate(tomllib.loads(meta_file.read_text("utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigurationError(
            f"email template metadata {meta_file} is not valid: {exc}"
        ) from exc
    if not meta_file.with_name(f"{name}.txt.j2").is_file():
        raise ConfigurationError(f"email template {name!r} needs a plain-text part {name}.txt.j2")
    has_html = meta_file.with_name(f"{name}.html.j2").is_file()
    return TemplateSource(
        name=name,
        metadata=metadata,
        text_file=f"{prefix}/{name}.txt.j2",
        html_file=f"{prefix}/{name}.html.j2" if has_html else None,
        builtin=builtin,
    )


def _check_variables(
    source: TemplateSource, env: jinja2.Environment, reserved: frozenset[str]
) -> None:
    declared = {*source.metadata.required_variables, *source.metadata.optional_variables}
    clash = declared & reserved
    if clash:
        raise ConfigurationError(
            f"email template {source.name!r} declares reserved variables: {', '.join(clash)}"
        )
    used = _used_variables(env, env.parse(source.metadata.subject), depth=0)
    for part in (source.text_file, source.html_file):
        if part is not None:
            used |= _variables_of(env, part, depth=0)
    undeclared = used - declared - reserved - set(env.globals)
    if undeclared:
        raise ConfigurationError(
            f"email template {source.name!r} uses variables its metadata does not declare: "
            f"{', '.join(sorted(undeclared))}"
        )


def _variables_of(env: jinja2.Environment, name: str, *, depth: int) -> set[str]:
    try:
        text, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        tree = env.parse(text)
    except jinja2.TemplateError as exc:
        raise ConfigurationError(f"email template file {name} does not compile: {exc}") from exc
    return _used_variables(env, tree, depth=depth)


def _used_variables(
    env: jinja2.Environment, tree: jinja2.nodes.Template, *, depth: int
) -> set[str]:
    used = set(meta.find_undeclared_variables(tree))
    if depth >= _MAX_INCLUDE_DEPTH:
        raise ConfigurationError("email templates include each other too deeply (a cycle?)")
    for referenced in _referenced(tree):
        used |= _variables_of(env, referenced, depth=depth + 1)
    return used


def _referenced(tree: jinja2.nodes.Template) -> Iterable[str]:
    for name in meta.find_referenced_templates(tree):
        if name is None:
            raise ConfigurationError("email templates must name the templates they include")
        yield name
