"""Cluster Foundation: ``cfset`` and ``cftool``.

What CF "has loaded" is kept in /var/opt/SMAWpclemu/cf/state.json (emulator
own): {"state": "UP", "pairs": [[name, value], ...]}.
"""
import socket
import sys
import threading

from . import cfconfig, emuconf, fsutil, paths

PROG_CFSET = "cfset"
PROG_CFTOOL = "cftool"


# --- state --------------------------------------------------------------------

def load_state():
    """CF state dict, or None when CF was never loaded on this node."""
    return fsutil.read_json(paths.p(paths.CF_STATE))


def reload_from_file():
    """``cfset -r``: parse cluster.config and load it; raise ConfigError/OSError."""
    text = fsutil.read_text(paths.p(paths.CLUSTER_CONFIG))
    if text is None:
        raise OSError("cannot open %s: No such file or directory" % paths.CLUSTER_CONFIG)
    pairs = cfconfig.parse(text, paths.CLUSTER_CONFIG)
    state = load_state() or {"state": "UP"}
    state["pairs"] = [list(pr) for pr in pairs]
    fsutil.write_json(paths.p(paths.CF_STATE), state)
    return pairs


def current_pairs():
    """What CF uses now: the loaded pairs, CLUSTER_TIMEOUT always present (10 if unset)."""
    state = load_state() or {}
    pairs = [tuple(pr) for pr in state.get("pairs", [])]
    if cfconfig.TIMEOUT_NAME not in dict(pairs):
        pairs.append((cfconfig.TIMEOUT_NAME, cfconfig.DEFAULT_TIMEOUT))
    return pairs


# --- cfset --------------------------------------------------------------------

CFSET_USAGE = "usage: cfset -r | -a\n"


def cfset_main(argv):
    """Entry point of /opt/SMAW/bin/cfset."""
    if argv == ["-r"]:
        try:
            reload_from_file()
        except (cfconfig.ConfigError, OSError) as e:
            sys.stderr.write("%s: %s\n" % (PROG_CFSET, e))
            sys.stderr.write("%s: configuration not loaded\n" % PROG_CFSET)
            return 1
        return 0
    if argv == ["-a"]:
        out = ["From cfset configuration in CF module:"]
        out += ["KEY: %s VALUE: %s" % pr for pr in current_pairs()]
        sys.stdout.write("\n".join(out) + "\n")
        return 0
    sys.stderr.write(CFSET_USAGE)
    return 2


# --- cftool -------------------------------------------------------------------

CFTOOL_USAGE = "usage: cftool -n | -l\n"
_WIDTHS = (9, 7, 12, 8)      # Node, Number, State, Os; Cpu last [I layout]


def _row(cells):
    """One cftool line; each column at least one blank wide."""
    out = ""
    for cell, width in zip(cells, _WIDTHS):
        out += cell.ljust(width - 1) + " "
    return out + cells[-1]


def probe(ip, port, timeout):
    """True when a TCP connect to ip:port succeeds within ``timeout`` s."""
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:
        return False


def node_states(conf, own_state, only_self=False):
    """[(name, number, state)]: own state from CF state; peers by a TCP probe.

    Emulator's approximation: a peer is UP when its sshd port answers a TCP
    connect within cftool_probe_timeout, LEFTCLUSTER otherwise.
    """
    nodes = [n for n in conf.nodes if not only_self or n[0] == conf.self_name]
    result = {}
    port = int(conf.number("node_ssh_port"))
    timeout = conf.number("cftool_probe_timeout")

    def check(name, ip):
        result[name] = "UP" if probe(ip, port, timeout) else "LEFTCLUSTER"

    threads = []
    for name, _num, ip in nodes:
        if name == conf.self_name:
            result[name] = own_state
        else:
            t = threading.Thread(target=check, args=(name, ip), daemon=True)
            t.start()
            threads.append(t)
    for t in threads:
        t.join(timeout + 0.5)
    return [(name, num, result.get(name, "LEFTCLUSTER")) for name, num, _ip in nodes]


def cftool_main(argv):
    """Entry point of /opt/SMAW/bin/cftool (-n: all nodes, -l: this node)."""
    if argv not in (["-n"], ["-l"]):
        sys.stderr.write(CFTOOL_USAGE)
        return 2
    state = load_state()
    if state is None:
        sys.stderr.write("%s: CF has not been loaded on this node\n" % PROG_CFTOOL)
        return 1
    conf = emuconf.load()
    rows = node_states(conf, state.get("state", "UP"), only_self=(argv == ["-l"]))
    out = [_row(["Node", "Number", "State", "Os", "Cpu"])]
    out += [_row([name, str(num), st, "Linux", "EM64T"]) for name, num, st in rows]
    sys.stdout.write("\n".join(out) + "\n")
    return 0
