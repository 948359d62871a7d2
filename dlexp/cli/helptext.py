"""Help that teaches: what every ``dlexp`` command's ``-h`` shows besides its options.

:class:`Command` is the class of every command registered on ``dlexp.cli.app``:

* the command list shows each command's whole first line (``short_help``), never cut
  with "…";
* usage and options show plain placeholders (``CONFIG``, ``PATH``, ``N``, ``NUMBER``,
  ``TEXT``, ``NAME``), not Python types (``{CONFIG}``, ``<list[Path]>``, ``<int range>``);
* an option whose values are names in a registry (:data:`CHOICES`) lists them, read from
  that registry when the help is shown (so ``dlexp --version`` imports none of them);
* ``examples=`` lines are printed under ``Examples:``, one per line, as typed.
"""

from __future__ import annotations

import importlib
from typing import Sequence

from typer.core import TyperArgument, TyperCommand, TyperOption

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

# option → (module, registry): the names an option accepts are the registry's keys.
CHOICES: dict[str, tuple[str, str]] = {
    "--activation": ("dlexp.nn.layers", "ACTIVATIONS"),
    "--init": ("dlexp.nn.init", "INITIALIZERS"),
    "--function": ("dlexp.surfaces", "FUNCTIONS"),
    "--band": ("dlexp.fmt", "BANDS"),
    "--metric": ("dlexp.plots.runs", "METRIC_NAMES"),
    "--sampler": ("dlexp.search.study", "SAMPLERS"),
    "--pruner": ("dlexp.search.study", "PRUNERS"),
}

_PLAIN = {"int": "N", "float": "NUMBER", "str": "TEXT", "Path": "PATH", "bool": "BOOL"}


def choices(option: str) -> list[str]:
    """The names ``option`` accepts (the keys of its registry in :data:`CHOICES`)."""
    module, name = CHOICES[option]
    return list(getattr(importlib.import_module(module), name))


def examples(*lines: str) -> str:
    """An epilog of example command lines, printed one per line as typed."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def _placeholder(param: TyperOption) -> str:
    if any(opt in CHOICES for opt in param.opts):
        return "NAME"
    desc = param.type_descriptor
    annotation = desc.annotation
    args = getattr(annotation, "__args__", None)
    if args:                                          # Optional[X], List[X]
        annotation = next(a for a in args if a is not type(None))
    if desc.is_path or getattr(annotation, "__name__", "") == "Path":
        return "PATH"
    return _PLAIN.get(getattr(annotation, "__name__", ""), "VALUE")


class Command(TyperCommand):
    """A ``dlexp`` command with the help described in the module docstring."""

    def __init__(self, name: str | None, *, help: str | None = None,
                 short_help: str | None = None, context_settings: dict | None = None,
                 **kwargs) -> None:
        if short_help is None and help:
            short_help = " ".join(help.strip().split("\n\n")[0].split())
        super().__init__(name, help=help, short_help=short_help,
                         context_settings={**HELP_OPTIONS, **(context_settings or {})},
                         **kwargs)
        for p in self.params:
            if isinstance(p, TyperOption) and not p.is_flag and p.metavar is None:
                p.metavar = _placeholder(p)
            elif isinstance(p, TyperArgument) and p.metavar is None:
                p.metavar = p.name.upper()
        self._listed = False

    def collect_usage_pieces(self, ctx) -> list[str]:
        """``[OPTIONS] CONFIG`` and ``RUN...``: arguments as the user types them."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for p in self.get_params(ctx):
            if isinstance(p, TyperArgument):
                word = p.metavar + ("..." if p.nargs != 1 else "")
                pieces.append(word if p.required else f"[{word}]")
        return pieces

    def format_options(self, ctx, formatter) -> None:
        """Arguments as ``NAME  help``, options as Typer writes them (placeholders set)."""
        args = [(p.metavar + ("..." if p.nargs != 1 else ""), p.help or "")
                for p in self.get_params(ctx) if isinstance(p, TyperArgument)]
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        opts = [rv for p in self.get_params(ctx)
                if not isinstance(p, TyperArgument) and (rv := p.get_help_record(ctx))]
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)

    def format_help(self, ctx, formatter) -> None:
        if not self._listed:                              # the registries, read once
            for p in self.params:
                listed: Sequence[str] = [o for o in getattr(p, "opts", ()) if o in CHOICES]
                if listed:
                    p.help = f"{p.help or ''} One of: {', '.join(choices(listed[0]))}.".strip()
            self._listed = True
        super().format_help(ctx, formatter)
