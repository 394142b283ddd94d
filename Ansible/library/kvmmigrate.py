#!/usr/bin/python
# -*- coding: utf-8 -*-

# A thin wrapper around the kvmmigrate command line: it runs `kvmmigrate COMMAND ... --json`
# and returns the tool's one JSON document. Everything kvmmigrate does (checks, the cluster
# steps, the verification) stays in kvmmigrate; this module only builds the argument list and
# reads the document.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kvmmigrate
short_description: Live-migrate KVM guests with kvmmigrate, PRIMECLUSTER guest clusters included
description:
  - Runs the C(kvmmigrate) command line on the target host (the admin host that reaches the libvirt
    hosts) with C(--json) and returns its JSON document.
  - C(migrate) moves one guest, C(evacuate) empties a host, C(verify) checks a guest and its guest
    cluster after any migration (and with O(fix) repairs what is stale), C(check) says whether a
    migration can work and changes nothing.
  - In check mode C(migrate) and C(evacuate) run with C(--dry-run), C(verify) never repairs (O(fix)
    is left out), and C(check) runs as always; nothing changes on any host.
  - The module changes nothing itself; a non-zero exit status of kvmmigrate fails the task with the
    tool's one-line message.
version_added: "0.1.0"
author:
  - kvmmigrate authors
options:
  command:
    description: The kvmmigrate subcommand to run.
    type: str
    required: true
    choices: [migrate, evacuate, verify, check]
  domain:
    description:
      - The libvirt domain (name or UUID) to migrate, check or verify.
      - Required for O(command=migrate) and O(command=check); for O(command=verify) either this or O(all).
    type: str
  dest_uri:
    description:
      - The destination host's libvirt URI as the source host reaches it (migrate and check),
        e.g. C(qemu+tcp://host-b/system).
    type: str
  connect_uri:
    description:
      - The source host's libvirt URI (C(-c)) for migrate and check; for verify, the one libvirt host
        to look at (by default the cluster configuration's hosts).
      - Without it, libvirt's default URI on the target host.
    type: str
  host:
    description:
      - The libvirt URI of the host to empty, required for O(command=evacuate), e.g.
        C(qemu+tcp://host-a/system).
    type: str
  to:
    description: For evacuate, the hosts that may take guests (C(--to); default every host of the cluster configuration).
    type: list
    elements: str
  cluster:
    description: Run the PRIMECLUSTER steps around the migration (C(--cluster)), for migrate and check.
    type: bool
    default: false
  config:
    description:
      - The cluster configuration file (C(--cluster-config)). Without it kvmmigrate reads
        C($KVMMIGRATE_CLUSTER_CONFIG), then C(/etc/kvmmigrate/cluster.yaml).
    type: path
  all:
    description: For verify, every node of the cluster configuration's guest cluster (C(--all)).
    type: bool
    default: false
  fix:
    description:
      - For verify, repair what is stale (C(--fix)). Never in check mode.
    type: bool
    default: false
  cf_timeout:
    description: For verify with O(fix), the CF timeout in seconds to write where cluster.config still holds a migration's.
    type: int
  clock_tolerance:
    description: For verify, the largest clock difference in seconds that passes.
    type: float
  policy:
    description: The convergence policy preset (migrate and evacuate).
    type: str
    choices: [low-downtime, balanced, fastest]
  max_downtime:
    description: The allowed downtime at the start, in milliseconds (migrate and evacuate).
    type: int
  downtime_steps:
    description: Later allowed downtimes in milliseconds (migrate and evacuate); an empty list for none.
    type: list
    elements: int
  auto_converge:
    description: Arm QEMU's auto-converge (true) or never (false); unset leaves it to the policy.
    type: bool
  allow_postcopy:
    description: Allow post-copy (true) or never (false); unset leaves it to the policy.
    type: bool
  completion_timeout:
    description: Seconds allowed per GiB of guest memory before the timeout action (0 for no limit).
    type: int
  timeout_action:
    description: What to do when the time runs out.
    type: str
    choices: [abort, suspend, postcopy]
  bandwidth:
    description:
      - Migrate, the bandwidth cap in MiB/s; evacuate, the link's total bandwidth in MiB/s,
        divided among the migrations in flight.
    type: int
  parallel:
    description: For migrate, send memory over this many parallel connections.
    type: int
  max_parallel:
    description: For evacuate, at most this many migrations at once.
    type: int
  max_incoming:
    description: For evacuate, at most this many migrations into one host at once.
    type: int
  allow_colocation:
    description: For evacuate, accept a plan that puts two nodes of one guest cluster on one host when no other host can.
    type: bool
    default: false
  stop_on_error:
    description: For evacuate, start nothing new once a guest was not moved.
    type: bool
    default: false
  resume:
    description: For evacuate, finish an evacuation of this host that a crash cut short.
    type: bool
    default: false
  persistent:
    description: For migrate, define the domain persistently on the destination.
    type: bool
    default: false
  undefine_source:
    description: For migrate, remove the domain's definition from the source after success.
    type: bool
    default: false
  migrate_uri:
    description: For migrate and check, where the migration data goes, e.g. C(tcp://10.0.0.2).
    type: str
  tls:
    description: For migrate and check, encrypt the migration data with TLS between the two QEMUs.
    type: bool
    default: false
  copy_storage_all:
    description: For migrate and check, copy every disk the destination does not see.
    type: bool
    default: false
  skip_checks:
    description: For migrate and evacuate, skip the checks beyond the basic ones.
    type: bool
    default: false
  reconnect_timeout:
    description: For migrate and evacuate, how long to wait after a failure for a host that stopped answering, in seconds.
    type: int
  extra_args:
    description:
      - More arguments put after the module's own, each one argument (no shell), e.g. C([--dname, web2]).
      - They are passed in check mode too; do not add C(--fix) here.
    type: list
    elements: str
    default: []
  binary:
    description: The kvmmigrate executable, a path or a name looked up in E(PATH).
    type: str
    default: kvmmigrate
notes:
  - Runs kvmmigrate as the connecting user on the target host; the cluster steps need what
    kvmmigrate needs there (root, the cluster configuration, ssh to the nodes).
  - The standard input of kvmmigrate is never a terminal, so libvirt cannot ask for a password;
    use URIs and keys that need none.
  - Nothing given to this module is secret, and nothing secret should be put in O(extra_args),
    as the command line is visible to every user of the host.
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Move the cluster node domain1 to hostB, with the PRIMECLUSTER steps around it
  kvmmigrate:
    command: migrate
    domain: domain1
    connect_uri: qemu+tcp://host-a/system
    dest_uri: qemu+tcp://host-b/system
    cluster: true
    max_downtime: 300
  register: moved

- name: Show the real downtime
  ansible.builtin.debug:
    msg: "{{ moved.report.downtime_milliseconds }} ms"

- name: Empty host-a for maintenance, two guests at a time
  kvmmigrate:
    command: evacuate
    host: qemu+tcp://host-a/system
    max_parallel: 2
    bandwidth: 1000

- name: After a plain virsh migrate somewhere, point the cluster at where its guests run
  kvmmigrate:
    command: verify
    all: true
    fix: true

- name: Would the migration work? (changes nothing)
  kvmmigrate:
    command: check
    domain: domain1
    connect_uri: qemu+tcp://host-a/system
    dest_uri: qemu+tcp://host-b/system
    cluster: true
"""

RETURN = r"""
report:
  description:
    - kvmmigrate's JSON document, as C(kvmmigrate COMMAND --json) prints it (C(schema_version) 1);
      in check mode the dry run's document (for migrate, C(would_migrate) and C(checks)).
    - Missing only when kvmmigrate printed no document (it could not be run, or crashed).
  returned: when kvmmigrate printed a document
  type: dict
  sample:
    command: migrate
    outcome: completed
    exit_code: 0
    running_on: destination
    downtime_milliseconds: 117
rc:
  description: kvmmigrate's exit status (0 success, 2 refused, 3 aborted, 4 failed, 5 unreachable, 6 cluster, 7 placement, 64 usage).
  returned: always
  type: int
  sample: 0
cmd:
  description: The argument list that was run.
  returned: always
  type: list
  elements: str
stderr:
  description: What kvmmigrate wrote on standard error (its messages and the human-readable report).
  returned: always
  type: str
changed:
  description:
    - True when a guest moved (migrate, evacuate) or verify --fix repaired something; never in check mode.
  returned: always
  type: bool
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

# Which options each subcommand takes: (parameter, applies to).
APPLIES = {
    "domain": ("migrate", "check", "verify"),
    "dest_uri": ("migrate", "check"),
    "connect_uri": ("migrate", "check", "verify"),
    "host": ("evacuate",),
    "to": ("evacuate",),
    "cluster": ("migrate", "check"),
    "all": ("verify",),
    "fix": ("verify",),
    "cf_timeout": ("verify",),
    "clock_tolerance": ("verify",),
    "policy": ("migrate", "evacuate"),
    "max_downtime": ("migrate", "evacuate"),
    "downtime_steps": ("migrate", "evacuate"),
    "auto_converge": ("migrate", "evacuate"),
    "allow_postcopy": ("migrate", "evacuate"),
    "completion_timeout": ("migrate", "evacuate"),
    "timeout_action": ("migrate", "evacuate"),
    "bandwidth": ("migrate", "evacuate"),
    "parallel": ("migrate",),
    "max_parallel": ("evacuate",),
    "max_incoming": ("evacuate",),
    "allow_colocation": ("evacuate",),
    "stop_on_error": ("evacuate",),
    "resume": ("evacuate",),
    "persistent": ("migrate",),
    "undefine_source": ("migrate",),
    "migrate_uri": ("migrate", "check"),
    "tls": ("migrate", "check"),
    "copy_storage_all": ("migrate", "check"),
    "skip_checks": ("migrate", "evacuate"),
    "reconnect_timeout": ("migrate", "evacuate"),
}

# Parameter -> option, for those given as `--option VALUE`.
VALUE_OPTIONS = [
    ("connect_uri", "--connect"),
    ("policy", "--policy"),
    ("max_downtime", "--max-downtime"),
    ("completion_timeout", "--completion-timeout"),
    ("timeout_action", "--timeout-action"),
    ("bandwidth", "--bandwidth"),
    ("parallel", "--parallel"),
    ("max_parallel", "--max-parallel"),
    ("max_incoming", "--max-incoming"),
    ("migrate_uri", "--migrate-uri"),
    ("reconnect_timeout", "--reconnect-timeout"),
    ("cf_timeout", "--cf-timeout"),
    ("clock_tolerance", "--clock-tolerance"),
    ("config", "--cluster-config"),
]

# Parameter -> flag, for booleans that are off by default.
FLAGS = [
    ("cluster", "--cluster"),
    ("all", "--all"),
    ("allow_colocation", "--allow-colocation"),
    ("stop_on_error", "--stop-on-error"),
    ("resume", "--resume"),
    ("persistent", "--persistent"),
    ("undefine_source", "--undefine-source"),
    ("tls", "--tls"),
    ("copy_storage_all", "--copy-storage-all"),
    ("skip_checks", "--skip-checks"),
]


def is_set(value):
    """Whether a parameter was given (a false boolean or an empty list counts as not given)."""
    return value not in (None, False, [])


def build_arguments(params, executable, check_mode):
    """The argument list: the subcommand, its positionals, its options, --json, then extra_args."""
    command = params["command"]
    args = [executable, command]
    if command in ("migrate", "check"):
        args.append(params["domain"])
        args.append(params["dest_uri"])
    elif command == "evacuate":
        args.append(params["host"])
    elif command == "verify" and params["domain"]:
        args.append(params["domain"])

    for name, option in VALUE_OPTIONS:
        value = params[name]
        if value is not None:
            args.extend([option, str(value)])
    if params["downtime_steps"] is not None:
        steps = params["downtime_steps"]
        args.extend(["--downtime-steps", ",".join(str(step) for step in steps) if steps else "none"])
    for uri in params["to"] or []:
        args.extend(["--to", uri])
    for name, flag in FLAGS:
        if params[name]:
            args.append(flag)
    for name, flag in (("auto_converge", "auto-converge"), ("allow_postcopy", "allow-postcopy")):
        if params[name] is not None:
            args.append("--" + flag if params[name] else "--no-" + flag)

    if command in ("migrate", "evacuate") and check_mode:
        args.append("--dry-run")
    if command == "verify" and params["fix"] and not check_mode:
        args.append("--fix")
    args.append("--json")
    args.extend(params["extra_args"])
    return args


def parse_document(stdout):
    """kvmmigrate's one JSON document, or None when standard output holds none."""
    text = (stdout or "").strip()
    if not text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def changed_by(command, report, check_mode):
    """Whether the run changed anything, read from the document: a guest moved, or verify --fix repaired."""
    if check_mode or not report:
        return False
    if command == "migrate":
        return report.get("running_on") == "destination"
    if command == "evacuate":
        if report.get("dry_run"):
            return False
        return any(
            isinstance(guest, dict) and guest.get("running_on") == "destination" and guest.get("result") != "moved_before"
            for guest in report.get("guests") or []
        )
    if command == "verify":
        return bool(report.get("repairs"))
    return False


def one_line(text):
    return " ".join(str(text).split())


def failed_checks(report):
    """`check: detail` of each failing check in a check, dry-run or verify document."""
    lines = []
    for check in report.get("checks") or []:
        if not isinstance(check, dict):
            continue
        if isinstance(check.get("checks"), list):  # an evacuation's dry run: checks per guest
            lines.extend("%s: %s" % (check.get("guest"), line) for line in failed_checks(check))
        elif check.get("status") == "fail" or check.get("outcome") == "fail":
            name = check.get("name") or check.get("check")
            subject = check.get("subject") or check.get("node")
            label = "%s %s" % (subject, name) if subject else name
            lines.append("%s: %s" % (label, check.get("detail")))
    return lines


def failure_message(command, report, stderr, rc):
    """The tool's one-line message: the document's error, its failing checks, or the last line on stderr."""
    if report:
        error = report.get("error")
        if isinstance(error, dict) and error.get("message"):
            return one_line(error["message"])
        if isinstance(error, str) and error:
            return one_line(error)
        if report.get("message"):
            return one_line(report["message"])
        failing = failed_checks(report)
        if not failing and command == "evacuate":
            failing = [
                "%s: %s" % (guest.get("name"), guest.get("error"))
                for guest in report.get("guests") or []
                if isinstance(guest, dict) and guest.get("error")
            ]
        if failing:
            return one_line("; ".join(failing))
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("Error: "):
            return one_line(line[len("Error: "):])
    if lines:
        return one_line(lines[-1])
    return "kvmmigrate %s exited with status %d" % (command, rc)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            command=dict(type="str", required=True, choices=["migrate", "evacuate", "verify", "check"]),
            domain=dict(type="str"),
            dest_uri=dict(type="str"),
            connect_uri=dict(type="str"),
            host=dict(type="str"),
            to=dict(type="list", elements="str"),
            cluster=dict(type="bool", default=False),
            config=dict(type="path"),
            all=dict(type="bool", default=False),
            fix=dict(type="bool", default=False),
            cf_timeout=dict(type="int"),
            clock_tolerance=dict(type="float"),
            policy=dict(type="str", choices=["low-downtime", "balanced", "fastest"]),
            max_downtime=dict(type="int"),
            downtime_steps=dict(type="list", elements="int"),
            auto_converge=dict(type="bool"),
            allow_postcopy=dict(type="bool"),
            completion_timeout=dict(type="int"),
            timeout_action=dict(type="str", choices=["abort", "suspend", "postcopy"]),
            bandwidth=dict(type="int"),
            parallel=dict(type="int"),
            max_parallel=dict(type="int"),
            max_incoming=dict(type="int"),
            allow_colocation=dict(type="bool", default=False),
            stop_on_error=dict(type="bool", default=False),
            resume=dict(type="bool", default=False),
            persistent=dict(type="bool", default=False),
            undefine_source=dict(type="bool", default=False),
            migrate_uri=dict(type="str"),
            tls=dict(type="bool", default=False),
            copy_storage_all=dict(type="bool", default=False),
            skip_checks=dict(type="bool", default=False),
            reconnect_timeout=dict(type="int"),
            extra_args=dict(type="list", elements="str", default=[]),
            binary=dict(type="str", default="kvmmigrate"),
        ),
        required_if=[
            ("command", "migrate", ("domain", "dest_uri")),
            ("command", "check", ("domain", "dest_uri")),
            ("command", "evacuate", ("host",)),
            ("command", "verify", ("domain", "all"), True),
        ],
        mutually_exclusive=[("domain", "all")],
        supports_check_mode=True,
    )
    params = module.params
    command = params["command"]

    misplaced = sorted(name for name, commands in APPLIES.items() if command not in commands and is_set(params[name]))
    if misplaced:
        module.fail_json(msg="%s does not apply to command %s" % (", ".join(misplaced), command), rc=64)

    binary = params["binary"]
    if os.sep in binary:
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            module.fail_json(msg="kvmmigrate binary %s is not an executable file" % binary, rc=127)
        executable = binary
    else:
        executable = module.get_bin_path(binary, required=True)

    args = build_arguments(params, executable, module.check_mode)

    # kvmmigrate must never find a terminal on its standard input (libvirt's authentication callback
    # would ask on it, and over an ssh connection with a tty it might be one): the module has read
    # its arguments already, so its own standard input, which the command inherits, becomes /dev/null.
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)

    rc, stdout, stderr = module.run_command(args, expand_user_and_vars=False, errors="surrogate_or_replace")
    report = parse_document(stdout)
    result = dict(rc=rc, cmd=args, stderr=stderr, changed=changed_by(command, report, module.check_mode))
    if report is not None:
        result["report"] = report
    elif stdout and stdout.strip():
        result["stdout"] = stdout

    if rc != 0:
        module.fail_json(msg=failure_message(command, report, stderr, rc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
