"""A config's text as plain data: the YAML file, and ``--set key.sub=value`` overrides.
The work is bounded: a file is read up to :data:`MAX_BYTES`, and YAML aliases may not
expand a document beyond :data:`MAX_NODES` values ("billion laughs")."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from dlexp.errors import ConfigError

MAX_BYTES = 1 << 20             # a config is a page of text; 1 MiB is far beyond that
MAX_NODES = 100_000             # values in a document once its aliases are expanded
NAMED_SECTIONS = ("optimizer.schedule",)   # sections a config may give as just a name


class TooLarge(Exception):
    pass


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice in one mapping (YAML would keep the
    last), an integer beyond 2⁶³ and aliases expanding beyond :data:`MAX_NODES`."""

    def construct_document(self, node):
        if _expanded_size(node, {}) > MAX_NODES:
            raise TooLarge(f"its aliases (*name) expand to more than {MAX_NODES:,} values; "
                           "write the values out")
        return super().construct_document(node)

    def construct_bounded_int(self, node):
        try:
            value = self.construct_yaml_int(node)
        except ValueError:                      # more than 4300 digits
            value = None
        if value is None or abs(value) >= 2 ** 63:
            raise TooLarge(f"the integer {node.value[:12]}… ({len(node.value)} characters) "
                           "is beyond 2⁶³; use a smaller number")
        return value

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":     # `<<: *anchor` merges
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                twice = key in seen
                seen.add(key)
            except TypeError:                   # unhashable: the base class reports it
                continue
            if twice:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark)
        return super().construct_mapping(node, deep)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_bounded_int)


def _expanded_size(node, memo: dict) -> int:
    """Values in ``node``'s tree, aliases expanded: 1 + its children's (a cycle: too many)."""
    if id(node) not in memo:
        memo[id(node)] = MAX_NODES + 1
        items = node.value if isinstance(node.value, list) else []
        flat = [c for item in items for c in (item if isinstance(item, tuple) else (item,))]
        memo[id(node)] = min(1 + sum(_expanded_size(c, memo) for c in flat), MAX_NODES + 1)
    return memo[id(node)]


def read_yaml_mapping(path: str | Path) -> dict:
    """The mapping in the YAML file ``path``; anything else is a ConfigError naming it."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{p}: is a directory, not a config file; name a .yaml file inside it")
    try:
        with open(p, "rb") as f:
            raw = f.read(MAX_BYTES + 1)            # /dev/zero or a huge file: no further
        if len(raw) > MAX_BYTES:
            raise ConfigError(f"{p}: larger than {MAX_BYTES >> 20} MiB, too large for a config "
                              "file; check the path")
        data = yaml.load(raw.decode("utf-8"), Loader=_Loader)
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file; check the path (`dlexp configs` lists "
                          "the bundled ones)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not a text file; a config is YAML text") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read the config file ({e.strerror}); check the path"
                          ) from None
    except RecursionError:
        raise ConfigError(f"{p}: the YAML is nested too deeply; simplify it") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or "invalid syntax"
        raise ConfigError(f"{p}: malformed YAML{at}: {problem}; fix the syntax") from None
    except TooLarge as e:
        raise ConfigError(f"{p}: too large for a config: {e}") from None
    if data is None:
        raise ConfigError(f"{p}: the file is empty; a config needs at least one section "
                          "(see `dlexp configs show baseline`)")
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of sections (data:, model:, …) at the top, "
                          f"got a {type(data).__name__}")
    return data


def apply_overrides(raw: dict, overrides: list[str] | tuple) -> dict:
    """A copy of ``raw`` with each ``a.b.c=value`` set (value parsed as YAML). A section in
    its short form (``schedule: cosine``) opens as ``{name: cosine}`` when a key below it is
    set; overrides of such a section come first, so their order does not matter."""
    out = copy.deepcopy(raw)
    first = [o for o in overrides if o.partition("=")[0].strip() in NAMED_SECTIONS]
    for item in first + [o for o in overrides if o not in first]:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE with a dotted key, "
                              "e.g. --set optimizer.lr=0.01")
        try:
            value = yaml.load(text, Loader=_Loader) if text.strip() else None
        except TooLarge as e:
            raise ConfigError(f"--set {key.strip()}: too large for a config: {e}") from None
        except yaml.YAMLError as e:
            if text.strip()[:1] in "[{":
                problem = getattr(e, "problem", None) or "invalid syntax"
                raise ConfigError(f"--set {item!r}: the value is not valid YAML ({problem}); "
                                  "write lists and mappings whole, e.g. model.hidden=[50,50]"
                                  ) from None
            value = text
        node = out
        for depth, part in enumerate(parts[:-1], 1):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if isinstance(child, str) and ".".join(parts[:depth]) in NAMED_SECTIONS:
                child = node[part] = {"name": child}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item!r}: {part!r} is a value, not a section; "
                                  f"set {part!r} itself or check the key")
            node = child
        node[parts[-1]] = value
    return out
