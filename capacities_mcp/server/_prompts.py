"""`prompts/*.md` → MCP prompts.

A prompt file is Markdown with YAML front matter:

    ---
    name: summarize_object
    title: Summarize an object            # optional
    description: Read one object and summarize it.
    arguments:
      - {name: query, description: Title or id of the object, required: true}
      - {name: focus, description: What to focus on, default: the main points}
    tools: [search_objects, get_object]    # optional: skip the prompt when any is missing
    ---
    Find "{query}" with search_objects ...

The body is a template: `{argument}` is replaced by the argument's value (or its `default`, or
nothing). Only declared argument names are placeholders, so other braces in the text (JSON,
`capacities://object/{id}`) stay as they are. Prompts live in files, not code, so writers can tune
them without touching Python, and users can add their own with `CAPACITIES_MCP_PROMPTS_DIR`.

Where the shipped prompts are found (first match wins): the package's own `prompts/` data
directory (installed wheels) and the repository's top-level `prompts/` (checkouts, editable
installs, `.mcpb` bundles). `CAPACITIES_MCP_PROMPTS_DIR` adds a directory whose prompts override
shipped ones of the same name.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from mcp.server.mcpserver.prompts.base import Message, Prompt, PromptArgument
from mcp.shared.exceptions import MCPError

from capacities_mcp._environment import ENV_PROMPTS_DIR

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

__all__ = [
    "ENV_PROMPTS_DIR",
    "PromptFileError",
    "PromptSpec",
    "load_prompt_specs",
    "parse_prompt_file",
    "register_prompts",
    "render_template",
    "shipped_prompts_dir",
]

_log = logging.getLogger("capacities_mcp.server")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PromptFileError(ValueError):
    """A prompt file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class ArgumentSpec:
    name: str
    description: str | None
    required: bool
    default: str


@dataclass(frozen=True)
class PromptSpec:
    """One parsed prompt file."""

    name: str
    title: str | None
    description: str
    arguments: tuple[ArgumentSpec, ...]
    tools: tuple[str, ...]
    template: str
    source: Path


def shipped_prompts_dir() -> Path | None:
    """The directory of the prompts that come with capacities-mcp, wherever it was installed."""
    package_root = Path(__file__).resolve().parent.parent  # capacities_mcp/
    for candidate in (package_root / "prompts", package_root.parent / "prompts"):
        if candidate.is_dir() and any(candidate.glob("*.md")):
            return candidate
    return None


def parse_prompt_file(path: Path) -> PromptSpec:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise PromptFileError(f"{path}: must start with YAML front matter between '---' lines")
    parts = re.split(r"^---[ \t]*\r?$\n?", text, maxsplit=2, flags=re.MULTILINE)
    if len(parts) < 3:
        raise PromptFileError(f"{path}: the front matter is not closed with a '---' line")
    try:
        meta = yaml.safe_load(parts[1]) or {}
    except yaml.YAMLError as exc:
        raise PromptFileError(f"{path}: invalid YAML front matter: {exc}") from None
    if not isinstance(meta, dict):
        raise PromptFileError(f"{path}: the front matter must be a mapping")
    name = meta.get("name") or path.stem
    if not isinstance(name, str) or not _NAME.match(name):
        raise PromptFileError(f"{path}: invalid prompt name {name!r}")
    description = meta.get("description")
    if not isinstance(description, str) or not description.strip():
        raise PromptFileError(f"{path}: 'description' is required")
    arguments: list[ArgumentSpec] = []
    for raw in meta.get("arguments") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise PromptFileError(f"{path}: every argument needs a 'name'")
        if not _PLACEHOLDER.fullmatch("{" + raw["name"] + "}"):
            raise PromptFileError(f"{path}: argument name {raw['name']!r} is not an identifier")
        arguments.append(
            ArgumentSpec(
                name=raw["name"],
                description=str(raw["description"]) if raw.get("description") else None,
                required=bool(raw.get("required", False)),
                default=str(raw.get("default", "")),
            )
        )
    if len({a.name for a in arguments}) != len(arguments):
        raise PromptFileError(f"{path}: duplicate argument names")
    tools = meta.get("tools") or []
    if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
        raise PromptFileError(f"{path}: 'tools' must be a list of tool names")
    template = parts[2].strip("\n") + "\n"
    return PromptSpec(
        name=name,
        title=str(meta["title"]) if meta.get("title") else None,
        description=description.strip(),
        arguments=tuple(arguments),
        tools=tuple(tools),
        template=template,
        source=path,
    )


def load_prompt_specs(directories: Iterable[Path] | None = None) -> list[PromptSpec]:
    """Every prompt, later directories overriding earlier ones by name, sorted by name."""
    if directories is None:
        shipped = shipped_prompts_dir()
        if shipped is None:
            _log.warning("the shipped prompt templates (prompts/*.md) were not found; no prompts")
        found = [shipped] if shipped is not None else []
        extra = os.environ.get(ENV_PROMPTS_DIR)
        if extra:
            found.append(Path(extra).expanduser())
        directories = found
    specs: dict[str, PromptSpec] = {}
    for directory in directories:
        if not directory.is_dir():
            _log.warning("prompt directory %s does not exist; skipped", directory)
            continue
        for path in sorted(directory.glob("*.md")):
            spec = parse_prompt_file(path)
            specs[spec.name] = spec
    return [specs[name] for name in sorted(specs)]


def render_template(spec: PromptSpec, arguments: dict[str, str] | None) -> str:
    """Fill the template, or raise `MCPError(-32602)` naming what is missing or unknown."""
    given = {k: v for k, v in (arguments or {}).items()}
    declared = {a.name: a for a in spec.arguments}
    unknown = sorted(set(given) - set(declared))
    missing = [a for a in spec.arguments if a.required and not str(given.get(a.name) or "").strip()]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(
                "missing required argument(s): "
                + "; ".join(f"'{a.name}' ({a.description or 'no description'})" for a in missing)
            )
        if unknown:
            problems.append("unknown argument(s): " + ", ".join(f"'{n}'" for n in unknown))
        takes = ", ".join(f"{a.name}{'' if a.required else ' (optional)'}" for a in spec.arguments)
        raise MCPError(
            code=-32602,
            message=f"Prompt '{spec.name}': {'; '.join(problems)}. It takes: {takes or 'nothing'}.",
        )

    def fill(match: re.Match[str]) -> str:
        arg = declared.get(match.group(1))
        if arg is None:
            return match.group(0)
        value = given.get(arg.name)
        return str(value) if value not in (None, "") else arg.default

    return _PLACEHOLDER.sub(fill, spec.template)


class TemplatePrompt(Prompt):
    """A prompt rendered from a `PromptSpec`.

    `render` is ours rather than the SDK's because the SDK reports a missing argument as a bare
    `ValueError` with a Python set in the text (JSON-RPC code 0); ours says which argument, what
    it is for, and uses -32602 (invalid params).
    """

    spec: PromptSpec

    async def render(self, arguments: dict[str, Any] | None, context: Any) -> list[Message]:
        return [Message(role="user", content=render_template(self.spec, arguments))]


def register_prompts(
    server: MCPServer[Any],
    *,
    available_tools: Sequence[str] | None = None,
    specs: Sequence[PromptSpec] | None = None,
) -> list[str]:
    """Register every prompt whose tools are available; return the registered names."""
    available = set(available_tools) if available_tools is not None else None
    names: list[str] = []
    for spec in specs if specs is not None else load_prompt_specs():
        missing_tools = [t for t in spec.tools if available is not None and t not in available]
        if missing_tools:
            _log.debug("prompt %s skipped: tools %s are not enabled", spec.name, missing_tools)
            continue

        def fill(_spec: PromptSpec = spec, **kwargs: str) -> str:
            return render_template(_spec, kwargs)

        server.add_prompt(
            TemplatePrompt(
                name=spec.name,
                title=spec.title,
                description=spec.description,
                arguments=[
                    PromptArgument(name=a.name, description=a.description, required=a.required)
                    for a in spec.arguments
                ],
                fn=fill,
                context_kwarg=None,
                spec=spec,
            )
        )
        names.append(spec.name)
    return names
