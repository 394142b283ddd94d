"""``sfkvmmigrate``: make a guest cluster ready for, and restore it after, a
KVM live migration of one of its guests (spec §2).

  sfkvmmigrate -p DOMAIN -g [-t SECONDS]
      on every node: sdtool -e; CLUSTER_TIMEOUT 600 (or SECONDS) in
      /etc/default/cluster.config; cfset -r.
  sfkvmmigrate -u DOMAIN -g
      on every node: CLUSTER_TIMEOUT back to what -p saved (10 if nothing);
      cfset -r; the guest's host-ip (and host CF name in SA_vmchkhost.cfg) set
      to the host that runs DOMAIN now; sdtool -e (if running) and sdtool -b.

Inferred parts [I], marked below too:
  - -t SECONDS is the CF timeout to set (the manual: "migration time + 300 s",
    computed by the caller);
  - the nodes are reached over ssh with the lab key (the real product uses CF
    remote execution); commands run on all nodes in parallel;
  - -u finds the domain's current host by asking every host IP known from the
    agent files and from the emulator config which one runs DOMAIN;
  - -u stops SF before starting it, so a repeated -u loads the new settings;
  - the SF weight is not changed (the lab's rcsd.cfg gives every node weight 1);
  - without -g (run on the host OS, host OS failover function) is not emulated.
Success prints nothing; errors go to stderr, exit 1; usage errors exit 2.
"""
import getopt
import os
import shlex
import sys
import threading

from . import agents, emuconf, fsutil, paths

PROG = "sfkvmmigrate"
USAGE = ("usage: sfkvmmigrate -p domain -g [-t timeout]\n"
         "       sfkvmmigrate -u domain -g\n")
PREPARE_TIMEOUT = "600"          # [C] 10 s → 600 s
REMOTE_TIMEOUT = 60              # s, per command on a node


class UsageError(Exception):
    """Bad command line."""


def parse_args(argv):
    """Return (mode "-p"/"-u", domain, timeout or None)."""
    try:
        opts, rest = getopt.getopt(argv, "p:u:gt:")
    except getopt.GetoptError as e:
        raise UsageError(str(e))
    if rest:
        raise UsageError("unexpected argument %r" % rest[0])
    modes = [(o, v) for o, v in opts if o in ("-p", "-u")]
    flags = [o for o, _v in opts]
    if len(modes) != 1:
        raise UsageError("give exactly one of -p and -u")
    mode, domain = modes[0]
    timeout = None
    for o, v in opts:
        if o == "-t":
            if mode != "-p" or not v.isdigit() or int(v) < 1:
                raise UsageError("-t takes a number of seconds and goes with -p")
            timeout = v
    if "-g" not in flags:
        raise UsageError("-g is required (the host OS mode, without -g, is not emulated)")
    if flags.count("-g") > 1 or flags.count("-t") > 1:
        raise UsageError("repeated option")
    if not domain:
        raise UsageError("no domain given")
    return mode, domain, timeout


class Cluster:
    """Runs commands of /opt/SMAW on every CF node (locally for this node)."""

    def __init__(self, conf):
        self.conf = conf
        if not conf.nodes or not conf.self_name:
            raise RuntimeError("no CF node list (%s)" % paths.EMU_CONF)

    def argv_for(self, name, ip, command):
        """The argv running ``command`` (relative to /opt/SMAW) on node ``name``."""
        if name == self.conf.self_name:
            return [os.path.join(paths.opt_smaw_local(), command[0])] + command[1:]
        remote = " ".join(shlex.quote(c) for c in
                          [paths.OPT_SMAW + "/" + command[0]] + command[1:])
        argv = [self.conf.get("ssh_program"), "-i", self.conf.path("ssh_key"),
                "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=%s" % self.conf.get("ssh_connect_timeout"),
                "-o", "UserKnownHostsFile=%s" % self.conf.path("known_hosts"),
                "-o", "StrictHostKeyChecking=yes"]
        if self.conf.get("node_ssh_port") != "22":
            argv += ["-p", self.conf.get("node_ssh_port")]
        return argv + ["%s@%s" % (self.conf.get("remote_user"), ip), remote]

    def run_all(self, command):
        """Run ``command`` on all nodes in parallel; return [(node, message)] failures."""
        failures = []

        def one(name, ip):
            rc, _out, err = agents.run(self.argv_for(name, ip, command), REMOTE_TIMEOUT)
            if rc != 0:
                reason = err.strip().splitlines()[-1] if err.strip() else \
                    ("timed out" if rc is None else "exit %s" % rc)
                failures.append((name, "%s: %s" % (" ".join(command), reason)))

        threads = [threading.Thread(target=one, args=(n, ip)) for n, _num, ip in self.conf.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sorted(failures)


def agent_records():
    """[(agent, fields)] of the local libvirt / vmchkhost agent files."""
    records = []
    for agent in ("SA_libvirtgp", "SA_libvirtgr", "SA_vmchkhost"):
        text = fsutil.read_text(paths.p(paths.agent_cfg(agent))) or ""
        for line in text.splitlines():
            fields = line.split()
            if len(fields) == 5 and not fields[0].startswith("#"):
                records.append((agent, fields))
    return records


def guest_of(domain, records):
    """(CF name, user) of the guest that is ``domain``, from the libvirt agent lines."""
    for agent, fields in records:
        if agent != "SA_vmchkhost" and fields[1] == domain:
            return fields[0], fields[3]
    return None, None


def find_host(conf, domain, user, records):
    """Host IP(s) answering that ``domain`` is running there. [I]"""
    candidates = []
    for _agent, fields in records:
        if fields[2] not in candidates:
            candidates.append(fields[2])
    for _name, ip in conf.hosts:
        if ip not in candidates:
            candidates.append(ip)
    running = []

    def ask(ip):
        command = "virsh -c qemu:///system domstate %s" % shlex.quote(domain)
        rc, out, _err = agents.run(agents.ssh_argv(conf, user, ip, command), 20)
        if rc == 0 and out.strip() == "running":
            running.append(ip)

    threads = [threading.Thread(target=ask, args=(ip,)) for ip in candidates]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [ip for ip in candidates if ip in running]


def host_cfname(conf, ip, user):
    """CF name of the host OS at ``ip``: from the emulator config, else its hostname."""
    name = conf.host_name(ip)
    if name:
        return name
    rc, out, _err = agents.run(agents.ssh_argv(conf, user, ip, "hostname"), 20)
    return out.strip() if rc == 0 and out.strip() else None


def report(failures):
    """Print failures; return the exit code."""
    for node, message in failures:
        sys.stderr.write("%s: %s: %s\n" % (PROG, node, message))
    return 1 if failures else 0


def prepare(cluster, domain, timeout):
    """-p: stop SF everywhere, then raise the CF timeout everywhere."""
    guest, _user = guest_of(domain, agent_records())
    if guest is None:
        sys.stderr.write("%s: domain %s is not a node of this cluster\n" % (PROG, domain))
        return 1
    failures = cluster.run_all(["SMAWpclemu/bin/pclemu-node", "check"])
    if failures:        # all nodes must be reachable before anything changes
        return report(failures)
    failures = cluster.run_all(["bin/sdtool", "-e"])
    failures += cluster.run_all(["SMAWpclemu/bin/pclemu-node", "set-timeout",
                                 timeout or PREPARE_TIMEOUT])
    failures += cluster.run_all(["bin/cfset", "-r"])
    return report(failures)


def unprepare(cluster, conf, domain):
    """-u: CF timeout back, agent settings for the new host, SF started."""
    failures = cluster.run_all(["SMAWpclemu/bin/pclemu-node", "restore-timeout"])
    failures += cluster.run_all(["bin/cfset", "-r"])
    records = agent_records()
    guest, user = guest_of(domain, records)
    if guest is None:
        failures.append((conf.self_name, "domain %s is not a node of this cluster" % domain))
    else:
        hosts = find_host(conf, domain, user, records)
        if len(hosts) != 1:
            failures.append((conf.self_name, "cannot tell which host runs %s (%s)"
                             % (domain, ", ".join(hosts) or "no host answers running")))
        else:
            command = ["SMAWpclemu/bin/pclemu-node", "set-guest-host", guest, hosts[0]]
            if any(agent == "SA_vmchkhost" for agent, _f in records):
                name = host_cfname(conf, hosts[0], user)
                if name is None:
                    failures.append((conf.self_name, "no CF name for host %s" % hosts[0]))
                    command = None
                else:
                    command.append(name)
            if command:
                failures += cluster.run_all(command)
    failures += cluster.run_all(["bin/sdtool", "-e"])    # [I] so a re-run reloads
    failures += cluster.run_all(["bin/sdtool", "-b"])
    return report(failures)


def main(argv):
    """Entry point of /opt/SMAW/SMAWsf/bin/sfkvmmigrate."""
    try:
        mode, domain, timeout = parse_args(argv)
    except UsageError as e:
        sys.stderr.write("%s: %s\n%s" % (PROG, e, USAGE))
        return 2
    try:
        conf = emuconf.load()
        cluster = Cluster(conf)
    except (RuntimeError, ValueError) as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return 1
    if mode == "-p":
        return prepare(cluster, domain, timeout)
    return unprepare(cluster, conf, domain)
