"""Shutdown facility configuration: rcsd.cfg and the agents' .cfg files."""
import ipaddress
import re

from . import cipher, fsutil, paths


class ConfigError(Exception):
    """rcsd.cfg cannot be used."""


class NodeEntry:
    """One rcsd.cfg line: a CF node, its weight, admin address and agents."""

    def __init__(self, name, weight, admip, agents):
        self.name = name
        self.weight = weight
        self.admip = admip
        self.agents = agents          # [(agent name as written, timeout s)]


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_AGENT_SPLIT = re.compile(r":(?=[ \t]*agent[ \t]*=)")


def _options(text):
    """'k=v,k=v' → [(k, v)] with blanks around tokens ignored."""
    out = []
    for item in text.split(","):
        if "=" not in item:
            raise ValueError("expected key=value, got %r" % item.strip())
        key, value = item.split("=", 1)
        out.append((key.strip(), value.strip()))
    return out


def _parse_line(line):
    """Parse ``CFName[,weight=W][,admIP=ADDR]:agent=SA,timeout=T[:...]``."""
    parts = _AGENT_SPLIT.split(line.strip())
    head = parts[0].split(",", 1)
    name = head[0].strip()
    if not _NAME.match(name):
        raise ValueError("bad CF node name %r" % name)
    weight, admip = 1, None
    if len(head) > 1:
        for key, value in _options(head[1]):
            if key == "weight":
                if not value.isdigit():
                    raise ValueError("bad weight %r" % value)
                weight = int(value)
            elif key == "admIP":
                admip = value
            else:
                raise ValueError("unknown node option %r" % key)
    agents = []
    for part in parts[1:]:
        opts = dict(_options(part))
        agent = opts.pop("agent", "")
        timeout = opts.pop("timeout", "20")      # [I] default when absent
        if not agent or not timeout.isdigit() or opts:
            raise ValueError("bad agent entry %r" % part.strip())
        agents.append((agent, int(timeout)))
    if not agents:
        raise ValueError("no agent for node %s" % name)
    return NodeEntry(name, weight, admip, agents)


def parse_rcsd(text):
    """Parse rcsd.cfg text into [NodeEntry]; raise ConfigError."""
    entries, seen = [], set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            entry = _parse_line(line)
        except ValueError as e:
            raise ConfigError("%s: line %d: %s" % (paths.RCSD_CFG, number, e))
        if entry.name in seen:
            raise ConfigError("%s: line %d: node %s configured twice"
                              % (paths.RCSD_CFG, number, entry.name))
        seen.add(entry.name)
        entries.append(entry)
    if not entries:
        raise ConfigError("%s: no node configured" % paths.RCSD_CFG)
    return entries


def load_rcsd():
    """Read and parse the node's rcsd.cfg; raise ConfigError."""
    text = fsutil.read_text(paths.p(paths.RCSD_CFG))
    if text is None:
        raise ConfigError("cannot open %s: No such file or directory" % paths.RCSD_CFG)
    return parse_rcsd(text)


def agent_base(name):
    """Agent name without a trailing .so (compare names without it)."""
    return name[:-3] if name.endswith(".so") else name


# --- agent .cfg files [I] ------------------------------------------------------

_DOMAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
_USER = re.compile(r"^[a-z_][a-z0-9_.-]*$", re.I)


class AgentLineError(Exception):
    """The agent line for a node is missing or malformed (→ InitFailed)."""


def agent_lines(agent, node):
    """Fields of the non-comment lines of ``agent``.cfg whose first field is ``node``."""
    path = paths.agent_cfg(agent)
    text = fsutil.read_text(paths.p(path))
    if text is None:
        raise AgentLineError("cannot open %s" % path)
    found = []
    for line in text.splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#") and fields[0] == node:
            found.append(fields)
    if not found:
        raise AgentLineError("no line for %s in %s" % (node, path))
    if len(found) > 1:
        raise AgentLineError("%d lines for %s in %s" % (len(found), node, path))
    return found[0]


def check_ip(text):
    """Raise AgentLineError unless ``text`` is an IP address."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise AgentLineError("bad host IP address %r" % text)


def _check_common(path, fields, second_kind):
    """Validate a 5-field agent line: CFName X host-ip user password."""
    if len(fields) != 5:
        raise AgentLineError("%s: line for %s has %d fields, expected 5"
                             % (path, fields[0], len(fields)))
    pattern = _DOMAIN if second_kind == "domain" else _NAME
    if not pattern.match(fields[1]):
        raise AgentLineError("%s: bad %s %r" % (path, second_kind, fields[1]))
    check_ip(fields[2])
    if not _USER.match(fields[3]):
        raise AgentLineError("%s: bad user name %r" % (path, fields[3]))
    try:
        cipher.decrypt(fields[4])
    except ValueError:
        raise AgentLineError("%s: the password of %s does not decrypt" % (path, fields[0]))


def libvirt_line(agent, node):
    """SA_libvirtgp/gr line of ``node``: dict(domain, ip, user)."""
    fields = agent_lines(agent, node)
    _check_common(paths.agent_cfg(agent), fields, "domain")
    return {"domain": fields[1], "ip": fields[2], "user": fields[3]}


def vmchkhost_line(node):
    """SA_vmchkhost line of guest ``node``: dict(host, ip, user)."""
    fields = agent_lines("SA_vmchkhost", node)
    _check_common(paths.agent_cfg("SA_vmchkhost"), fields, "host CF name")
    return {"host": fields[1], "ip": fields[2], "user": fields[3]}
