"""/etc/default/cluster.config: the CF configuration file read by ``cfset -r``.

Format [C]: one ``NAME "VALUE"`` (or ``NAME 'VALUE'``) pair per line, ``#`` in
column 1 starts a comment, at most 100 pairs, a name may appear only once.
Blank lines are accepted.  Anything else on a line is an error [I: the manual
does not say what cfset does with other junk; refusing is the safe reading].
"""
import re

MAX_PAIRS = 100                       # [C]
TIMEOUT_NAME = "CLUSTER_TIMEOUT"
DEFAULT_TIMEOUT = "10"                # [C] absent means 10 s

_PAIR = re.compile(r"""^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]+(?:"([^"]*)"|'([^']*)')[ \t]*$""")


class ConfigError(Exception):
    """cluster.config cannot be loaded; the message names line and reason."""


def _pair(line):
    """(name, value) for a pair line, None for a comment/blank, or raise."""
    if line.startswith("#") or not line.strip():
        return None
    m = _PAIR.match(line)
    if not m:
        raise ValueError("not a NAME \"VALUE\" pair")
    value = m.group(2) if m.group(2) is not None else m.group(3)
    return m.group(1), value


def parse(text, filename="cluster.config"):
    """Parse the file's text into an ordered list of (name, value).

    Raises ConfigError for a malformed line, a duplicated name or more than
    MAX_PAIRS pairs; then nothing must be loaded.
    """
    pairs, seen = [], {}
    for number, line in enumerate(text.splitlines(), 1):
        try:
            pair = _pair(line)
        except ValueError as e:
            raise ConfigError("%s: line %d: %s" % (filename, number, e))
        if pair is None:
            continue
        name, value = pair
        if name in seen:
            raise ConfigError("%s: line %d: duplicate entry for %s (first on line %d)"
                              % (filename, number, name, seen[name]))
        seen[name] = number
        pairs.append(pair)
        if len(pairs) > MAX_PAIRS:
            raise ConfigError("%s: line %d: more than %d entries" % (filename, number, MAX_PAIRS))
    if TIMEOUT_NAME in seen:
        value = dict(pairs)[TIMEOUT_NAME]
        if not value.isdigit() or int(value) < 1:
            # [I] CF needs a number of seconds here.
            raise ConfigError("%s: line %d: %s must be a positive number of seconds, not %r"
                              % (filename, seen[TIMEOUT_NAME], TIMEOUT_NAME, value))
    return pairs


def get(text, name):
    """Value of ``name`` in the file text, or None when absent (comments skipped)."""
    for line in text.splitlines():
        try:
            pair = _pair(line)
        except ValueError:
            continue
        if pair and pair[0] == name:
            return pair[1]
    return None


def set_value(text, name, value):
    """Return ``text`` with ``name`` set to ``value``.

    The existing line is replaced in place (never a second line); every other
    line is kept as it is.  Without one, a line is appended.
    """
    lines = text.splitlines(True)
    new = '%s "%s"\n' % (name, value)
    done = False
    out = []
    for line in lines:
        try:
            pair = _pair(line.rstrip("\n"))
        except ValueError:
            pair = None
        if pair and pair[0] == name:
            if not done:
                out.append(new)
                done = True
            continue            # drop any further duplicate
        out.append(line)
    if not done:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(new)
    return "".join(out)


def remove(text, name):
    """Return ``text`` without the ``name`` line(s)."""
    out = []
    for line in text.splitlines(True):
        try:
            pair = _pair(line.rstrip("\n"))
        except ValueError:
            pair = None
        if pair and pair[0] == name:
            continue
        out.append(line)
    return "".join(out)
