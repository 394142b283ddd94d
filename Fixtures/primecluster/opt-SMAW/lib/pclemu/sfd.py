"""The emulated shutdown facility daemon (rcsd stand-in).

Started detached by ``sdtool -b``.  It holds an exclusive flock on
/var/opt/SMAWpclemu/sf/sfd.lock for as long as it runs (that lock *is* "SF is
running"), writes its pid to sfd.pid and its rows to state.json, and logs to
/var/opt/SMAWsf/log/rcsd.log (the real product's path; line format: sflog.py);
its raw stdout/stderr go to sfd.stderr (normally empty).  SIGHUP (``sdtool -r``)
re-reads rcsd.cfg and the emulator config and re-runs init and tests (logging
every result again); SIGTERM (``sdtool -e``) stops it.

Each (node, agent) row of rcsd.cfg goes, in its own thread:
  SA Init-ing / Init Init-ing  → InitWorked or InitFailed (SA back to Idle)
  SA Testing  / Test Testing   → TestWorked or TestFailed (SA back to Idle)
and is re-tested every sf_retest_interval seconds (SA shows Testing while a
re-test runs; Test State keeps the last result until the new one) [I].
"""
import fcntl
import os
import signal
import sys
import threading
import time
import traceback

from . import agents, emuconf, fsutil, paths, sfconf, sflog


def log(message):
    """One line to rcsd.log (``YYYY-MM-DD HH:MM:SS rcsd[PID]: MESSAGE``, see sflog.py)."""
    try:
        sflog.write(message)
    except OSError as e:                         # the log is gone or full: say so on stderr
        sys.stderr.write("rcsd: cannot write %s: %s: %s\n" % (paths.SF_LOG, e, message))
        sys.stderr.flush()


def result_message(node, agent, result, reason=None):
    """An init/test result line: ``NODE AGENT: RESULT[: REASON]``, AGENT as sdtool -s shows it."""
    text = "%s %s: %s" % (node, display_agent(agent), result)
    return text if reason is None else "%s: %s" % (text, reason)


def display_agent(name):
    """Agent name as sdtool -s prints it (with .so)."""
    return sfconf.agent_base(name) + ".so"


class Daemon:
    """The SF daemon: rows, their threads, reload and stop."""

    def __init__(self):
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = False
        self.reload_wanted = False
        self.generation = 0
        self.gen_over = threading.Event()
        self.rows = []
        self.children = set()
        self.conf = emuconf.load()
        self.started = time.time()

    # -- state ------------------------------------------------------------------
    def write_state(self):
        """Write the rows for sdtool -s (caller holds self.lock)."""
        fsutil.write_json(paths.p(paths.SF_STATE), {
            "pid": os.getpid(), "started": self.started,
            "generation": self.generation, "rows": self.rows}, sync=False)

    def update(self, gen, index, **fields):
        """Set fields of a row if its generation is still current."""
        with self.lock:
            if gen != self.generation or self.stopping:
                return False
            self.rows[index].update(fields)
            self.write_state()
            return True

    # -- generations -----------------------------------------------------------
    def start_generation(self, entries):
        """Reset all rows from ``entries`` and start their threads."""
        with self.lock:
            self.gen_over.set()
            self.generation += 1
            self.gen_over = threading.Event()
            gen, over = self.generation, self.gen_over
            self.rows = []
            jobs = []
            for entry in entries:
                for agent, timeout in entry.agents:
                    self.rows.append({"node": entry.name, "agent": display_agent(agent),
                                      "sa": "Idle", "shut": "Unknown", "test": "Unknown",
                                      "init": "Unknown"})
                    jobs.append((len(self.rows) - 1, entry.name, agent, timeout))
            self.write_state()
        log("configuration loaded: %d rows (generation %d)" % (len(jobs), gen))
        for job in jobs:
            threading.Thread(target=self.run_row, args=(gen, over) + job, daemon=True).start()

    def run_row(self, gen, over, index, node, agent, timeout):
        """Init then test one (node, agent) row, re-testing periodically."""
        conf = self.conf
        if over.wait(conf.number("sf_start_delay")):
            return
        began = time.time()
        if not self.update(gen, index, sa="Init-ing", init="Init-ing"):
            return
        try:
            params = agents.init(agent, node)
            failure = None
        except agents.InitFailed as e:
            params, failure = None, str(e)
        if over.wait(max(0.0, conf.number("sf_init_time") - (time.time() - began))):
            return
        if failure:
            log(result_message(node, agent, "InitFailed", failure))
            self.update(gen, index, sa="Idle", init="InitFailed")
            return
        log(result_message(node, agent, "InitWorked"))
        if not self.update(gen, index, sa="Idle", init="InitWorked"):
            return
        first = True
        while True:
            began = time.time()
            fields = {"sa": "Testing"}
            if first:
                fields["test"] = "Testing"
            if not self.update(gen, index, **fields):
                return
            worked, reason = agents.test(params, conf, timeout, self.children)
            if over.wait(max(0.0, conf.number("sf_test_min_time") - (time.time() - began))):
                return
            result = "TestWorked" if worked else "TestFailed"
            log(result_message(node, agent, result, reason))
            if not self.update(gen, index, sa="Idle", test=result):
                return
            first = False
            if over.wait(conf.number("sf_retest_interval")):
                return

    # -- signals and main loop -------------------------------------------------------
    def on_hup(self, _sig, _frame):
        """sdtool -r."""
        self.reload_wanted = True
        self.wake.set()

    def on_term(self, _sig, _frame):
        """sdtool -e."""
        self.stopping = True
        self.wake.set()

    def reload(self):
        """Re-read the configuration; keep the old one when the new is bad."""
        try:
            entries = sfconf.load_rcsd()
            self.conf = emuconf.load()
        except (sfconf.ConfigError, ValueError) as e:
            log("reload refused: %s" % e)
            return
        self.start_generation(entries)

    def shutdown(self):
        """Stop the rows, kill running agent tests, remove the state."""
        with self.lock:
            self.stopping = True
            self.gen_over.set()
            for proc in list(self.children):
                try:
                    proc.kill()
                except OSError:
                    pass
        log("stopped")

    def main(self):
        """Run until SIGTERM."""
        # A daemon starts from a clean signal mask: whoever started it (a thread of a Swift or Dispatch
        # program, say) may have had these signals blocked, and a blocked SIGHUP or SIGTERM would make
        # sdtool -r do nothing and sdtool -e wait for its SIGKILL.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP, signal.SIGTERM, signal.SIGINT})
        signal.signal(signal.SIGHUP, self.on_hup)
        signal.signal(signal.SIGTERM, self.on_term)
        signal.signal(signal.SIGINT, self.on_term)
        try:
            entries = sfconf.load_rcsd()
        except sfconf.ConfigError as e:
            log("cannot start: %s" % e)
            return 1
        log("started")
        self.start_generation(entries)
        while not self.stopping:
            self.wake.wait(1.0)
            self.wake.clear()
            if self.reload_wanted and not self.stopping:
                self.reload_wanted = False
                self.reload()
        self.shutdown()
        return 0


def acquire_lock(deadline=3.0):
    """Take the 'SF is running' lock; return its fd or None if another daemon holds it."""
    os.makedirs(paths.p(paths.SF_STATE_DIR), exist_ok=True)
    fd = os.open(paths.p(paths.SF_LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    end = time.time() + deadline
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            # a client may be probing the lock for an instant; retry briefly
            if time.time() > end:
                os.close(fd)
                return None
            time.sleep(0.02)


def log_crash(kind, exc_type, exc, tb):
    """An uncaught exception: one line in rcsd.log, the traceback on stderr (sfd.stderr)."""
    log("internal error (%s): %s: %s" % (kind, exc_type.__name__, exc))
    traceback.print_exception(exc_type, exc, tb)
    sys.stderr.flush()


def log_thread_crash(args):
    """threading.excepthook: a row thread died."""
    if args.exc_type is not SystemExit:
        log_crash("thread", args.exc_type, args.exc_value, args.exc_traceback)


def main():
    """Entry point of the daemon process."""
    sys.excepthook = lambda t, e, tb: log_crash("daemon", t, e, tb)
    threading.excepthook = log_thread_crash
    fd = acquire_lock()
    if fd is None:
        log("another shutdown facility daemon is running")
        return 3
    fsutil.atomic_write(paths.p(paths.SF_PID), "%d\n" % os.getpid())
    try:
        return Daemon().main()
    finally:
        # still holding the lock: these files are ours, not a successor's
        fsutil.remove(paths.p(paths.SF_STATE))
        fsutil.remove(paths.p(paths.SF_PID))
        os.close(fd)
