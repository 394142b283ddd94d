"""/etc/opt/SMAWpclemu/pclemu.conf: what the real product would know otherwise.

Emulator-own.  One setting per line, ``#`` comments, fields separated by blanks:

    self guest1                      this node's CF node name
    node guest1 1 10.77.0.11         CF node: name, node number, address (cftool -n)
    host hostA 10.77.0.1             host OS: CF name and address (sfkvmmigrate -u)
    ssh_key /etc/opt/SMAWpclemu/id_ed25519
    known_hosts /etc/opt/SMAWpclemu/known_hosts
    KEY VALUE                        any timing/option below

Paths are real paths; they are resolved through PCLEMU_ROOT like all others.
"""
from . import fsutil, paths

DEFAULTS = {
    "ssh_key": paths.EMU_CONF_DIR + "/id_ed25519",
    "known_hosts": paths.EMU_CONF_DIR + "/known_hosts",
    "ssh_program": "/usr/bin/ssh",
    "ssh_connect_timeout": "3",      # -o ConnectTimeout= of the agents' logins
    "agent_ssh_port": "22",          # port the agents log in to on host-ip
    "remote_user": "root",           # sfkvmmigrate's stand-in for CF remote execution
    "node_ssh_port": "22",           # port cftool -n probes on peers / sfkvmmigrate uses
    "cftool_probe_timeout": "1.0",   # s, TCP connect probe per peer (cftool -n)
    "sf_start_delay": "0.5",         # s, after sdtool -b/-r before rows go Init-ing
    "sf_init_time": "1.5",           # s, minimum time a row shows Init-ing
    "sf_test_min_time": "1.0",       # s, minimum time a row shows Testing
    "sf_retest_interval": "600",     # s, between agent tests (the real SF: ~10 min)
}


class EmuConf:
    """Parsed emulator configuration."""

    def __init__(self):
        self.self_name = None
        self.nodes = []          # [(name, number, ip)]
        self.hosts = []          # [(name, ip)]
        self.values = dict(DEFAULTS)

    def get(self, key):
        """A string setting."""
        return self.values[key]

    def number(self, key):
        """A numeric setting (float)."""
        return float(self.values[key])

    def path(self, key):
        """A path setting, mapped through PCLEMU_ROOT."""
        return paths.p(self.values[key])

    def node_ip(self, name):
        """Address of CF node ``name`` or None."""
        for n, _num, ip in self.nodes:
            if n == name:
                return ip
        return None

    def host_name(self, ip):
        """Host OS CF name for address ``ip`` or None."""
        for name, hip in self.hosts:
            if hip == ip:
                return name
        return None


def parse(text):
    """Parse the configuration text."""
    conf = EmuConf()
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        key, args = fields[0], fields[1:]
        if key == "self" and len(args) == 1:
            conf.self_name = args[0]
        elif key == "node" and len(args) == 3:
            conf.nodes.append((args[0], int(args[1]), args[2]))
        elif key == "host" and len(args) == 2:
            conf.hosts.append((args[0], args[1]))
        elif len(args) == 1:
            conf.values[key] = args[0]
        else:
            raise ValueError("pclemu.conf: bad line: %r" % line)
    return conf


def load():
    """Load the node's emulator configuration (defaults when the file is missing)."""
    text = fsutil.read_text(paths.p(paths.EMU_CONF))
    return parse(text or "")


def render(self_name, nodes, hosts, extra=None):
    """Text of a configuration file (used by seed and selftest)."""
    out = ["# PRIMECLUSTER emulator configuration (emulator-own, not a PRIMECLUSTER file).",
           "# See Fixtures/primecluster/README.md.",
           "self %s" % self_name]
    out += ["node %s %d %s" % n for n in nodes]
    out += ["host %s %s" % h for h in hosts]
    values = dict(DEFAULTS)
    values.update(extra or {})
    out += ["%s %s" % (k, values[k]) for k in sorted(values)]
    return "\n".join(out) + "\n"
