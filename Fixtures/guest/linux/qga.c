/*
 * qga: a minimal QEMU guest agent for the lab's Linux test guest (Fixtures/guest/linux). /init starts it
 * when the kernel command line says agent=1. It speaks the QGA protocol (QMP's JSON, no greeting) on the
 * virtio-serial port named org.qemu.guest_agent.0, enough for libvirt's virDomainGetTime/SetTime
 * (virsh domtime), and for a harness that talks to the socket itself.
 *
 * Usage:
 *   qga                 the agent: waits for the port (/sys/class/virtio-ports/NAME/name), opens
 *                       /dev/vportNpM (made with mknod from .../dev if devtmpfs has no node) and serves it
 *                       for ever; prints "agent: up on /dev/vportNpM" on the serial console
 *   qga --stdio         the same protocol on stdin/stdout, for tests on a host; guest-set-time is a dry
 *                       run there (it answers, but does not set the clock)
 *   qga --shift SECONDS sets the system clock SECONDS (signed integer) away from where it is, to the
 *                       nanosecond, and exits (/init's clockoffset=SECONDS)
 *
 * Commands (one JSON object each; several may arrive in one read, split anywhere; a 0xFF byte discards
 * a partial object, as in qemu-ga; bytes outside an object are ignored). One reply line each:
 *   guest-sync-delimited {id}   0xFF, then {"return": id}
 *   guest-sync {id}             {"return": id}
 *   guest-ping                  {"return": {}}
 *   guest-info                  {"return": {"version": ..., "supported_commands": [...]}}
 *   guest-get-time              {"return": nanoseconds since the epoch (CLOCK_REALTIME)}
 *   guest-set-time {time}       sets CLOCK_REALTIME to time (ns since the epoch); the RTC is left alone
 *   guest-set-time              sets CLOCK_REALTIME from the RTC (UTC), like qemu-ga's `hwclock -s`: reads
 *                               /sys/class/rtc/rtc0/since_epoch until its second changes, so the clock is
 *                               set at the edge (busybox `hwclock -s` truncates, up to 1 s low, and cannot
 *                               open /dev/rtc0 while the dirtier holds it); falls back to `hwclock -s -u`
 *   anything else               {"error": {"class": "CommandNotFound", "desc": "..."}}
 * A top-level "id" member of a command is echoed in its reply, as QMP does.
 *
 * Serial console lines (each one write(2), '\n' terminated):
 *   agent: up on /dev/vportNpM
 *   agent: info ...             (free form: waiting for the port, clock steps by guest-set-time, errors)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PORT_NAME "org.qemu.guest_agent.0"
#define VERSION "1.0.0-kvmm-lab"
#define MAX_OBJ 65536
#define SEC 1000000000LL

static int log_fd = 2;
static int dry_run; /* --stdio: guest-set-time does not touch the clock */

static void say(const char *fmt, ...) {
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof b - 2) n = sizeof b - 2;
    b[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(log_fd, b + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        off += w;
    }
}

static int64_t clock_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int set_realtime(int64_t ns) {
    if (dry_run) return 0;
    struct timespec ts = {(time_t)(ns / SEC), (long)(ns % SEC)};
    if (ts.tv_nsec < 0) {
        ts.tv_nsec += SEC;
        ts.tv_sec--;
    }
    return clock_settime(CLOCK_REALTIME, &ts);
}

/* ---- the clock ------------------------------------------------------------------------------------ */

static int read_rtc_sysfs(long long *secs) {
    char b[32];
    int fd = open("/sys/class/rtc/rtc0/since_epoch", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, b, sizeof b - 1);
    int e = errno;
    close(fd);
    if (n <= 0) {
        errno = n < 0 ? e : EIO;
        return -1;
    }
    b[n] = 0;
    char *end;
    errno = 0;
    *secs = strtoll(b, &end, 10);
    if (errno || end == b) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* Sets CLOCK_REALTIME from the RTC at one of its second edges. Returns 0, or -1 with a reason in why. */
static int clock_from_rtc(char *why, size_t whylen, int64_t *step) {
    long long s0, s;
    if (read_rtc_sysfs(&s0) == 0) {
        int64_t start = clock_ns(CLOCK_MONOTONIC), seen = start;
        s = s0;
        /* An edge comes within a second; allow for a busy host. */
        while (s == s0 && seen - start < 1500 * 1000000LL) {
            sleep_ms(1);
            if (read_rtc_sysfs(&s) < 0) break;
            seen = clock_ns(CLOCK_MONOTONIC);
        }
        int64_t target = (int64_t)s * SEC + (clock_ns(CLOCK_MONOTONIC) - (s != s0 ? seen : start));
        int64_t before = clock_ns(CLOCK_REALTIME);
        if (set_realtime(target) == 0) {
            *step = target - before;
            return 0;
        }
        snprintf(why, whylen, "clock_settime: %s", strerror(errno));
        return -1;
    }
    /* No sysfs RTC: what qemu-ga does. */
    int64_t before = clock_ns(CLOCK_REALTIME);
    if (dry_run) {
        *step = 0;
        return 0;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) dup2(null, 0);
        execl("/bin/hwclock", "hwclock", "-s", "-u", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(why, whylen, "no /sys/class/rtc/rtc0/since_epoch, and hwclock -s -u failed");
        return -1;
    }
    *step = clock_ns(CLOCK_REALTIME) - before;
    return 0;
}

/* ---- JSON, as much as the protocol needs ------------------------------------------------------------ */

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* p at '"'. Copies the (unescaped, truncated) string to out; returns the byte after the closing quote. */
static const char *json_string(const char *p, char *out, size_t cap) {
    size_t n = 0;
    if (*p != '"') return NULL;
    for (p++; *p != '"'; p++) {
        char c = *p;
        if (!c || (unsigned char)c < 0x20) return NULL;
        if (c == '\\') {
            c = *++p;
            switch (c) {
                case '"': case '\\': case '/': break;
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                case 'u':
                    for (int i = 1; i <= 4; i++)
                        if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i]) return NULL;
                    p += 4;
                    c = '?'; /* command names and keys are ASCII; other text is not needed */
                    break;
                default: return NULL;
            }
        }
        if (out && n + 1 < cap) out[n++] = c;
    }
    if (out && cap) out[n] = 0;
    return p + 1;
}

static const char *json_value(const char *p, int depth);

static const char *json_number(const char *p) {
    const char *q = p;
    if (*q == '-') q++;
    if (*q < '0' || *q > '9') return NULL;
    while (*q >= '0' && *q <= '9') q++;
    if (*q == '.') {
        q++;
        if (*q < '0' || *q > '9') return NULL;
        while (*q >= '0' && *q <= '9') q++;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (*q < '0' || *q > '9') return NULL;
        while (*q >= '0' && *q <= '9') q++;
    }
    return q;
}

/* Skips one value (p after leading white space); returns the byte after it, or NULL if malformed. */
static const char *json_value(const char *p, int depth) {
    if (depth > 64) return NULL;
    if (*p == '"') return json_string(p, NULL, 0);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (!(p = json_string(p, NULL, 0))) return NULL;
                p = ws(p);
                if (*p++ != ':') return NULL;
                p = ws(p);
            }
            if (!(p = json_value(p, depth + 1))) return NULL;
            p = ws(p);
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
            p = ws(p);
        }
    }
    if (!strncmp(p, "true", 4)) return p + 4;
    if (!strncmp(p, "false", 5)) return p + 5;
    if (!strncmp(p, "null", 4)) return p + 4;
    return json_number(p);
}

/* An integer value: p .. end must be digits with an optional '-' (no fraction, no exponent). */
static int json_int(const char *p, const char *end, long long *v) {
    char b[32];
    size_t n = end - p;
    if (n == 0 || n >= sizeof b) return -1;
    memcpy(b, p, n);
    b[n] = 0;
    for (size_t i = (b[0] == '-'); i < n; i++)
        if (b[i] < '0' || b[i] > '9') return -1;
    errno = 0;
    *v = strtoll(b, NULL, 10);
    return errno ? -1 : 0;
}

struct request {
    char execute[128];
    int has_execute;
    const char *id, *id_end;          /* top-level "id", raw JSON, echoed */
    const char *arg_id, *arg_id_end;  /* arguments.id, raw */
    const char *arg_time, *arg_time_end;
    int args_bad;                     /* "arguments" is not an object */
};

/* Parses one complete object. Returns 0, or -1 if it is not valid JSON (or not an object). */
static int parse_request(const char *s, struct request *r) {
    memset(r, 0, sizeof *r);
    const char *p = ws(s);
    if (*p != '{') return -1;
    p = ws(p + 1);
    if (*p == '}') return *ws(p + 1) ? -1 : 0;
    for (;;) {
        char key[64];
        if (!(p = json_string(p, key, sizeof key))) return -1;
        p = ws(p);
        if (*p++ != ':') return -1;
        p = ws(p);
        const char *v = p;
        if (!(p = json_value(p, 1))) return -1;
        if (!strcmp(key, "execute")) {
            if (*v != '"') {
                r->has_execute = -1;
            } else {
                json_string(v, r->execute, sizeof r->execute);
                r->has_execute = 1;
            }
        } else if (!strcmp(key, "id")) {
            r->id = v;
            r->id_end = p;
        } else if (!strcmp(key, "arguments")) {
            if (*v != '{') {
                r->args_bad = 1;
            } else {
                const char *q = ws(v + 1);
                while (*q != '}') {
                    char ak[64];
                    if (!(q = json_string(q, ak, sizeof ak))) return -1;
                    q = ws(q);
                    if (*q++ != ':') return -1;
                    q = ws(q);
                    const char *av = q;
                    if (!(q = json_value(q, 2))) return -1;
                    if (!strcmp(ak, "id")) {
                        r->arg_id = av;
                        r->arg_id_end = q;
                    } else if (!strcmp(ak, "time")) {
                        r->arg_time = av;
                        r->arg_time_end = q;
                    }
                    q = ws(q);
                    if (*q == ',') q = ws(q + 1);
                    else if (*q != '}') return -1;
                }
            }
        }
        p = ws(p);
        if (*p == '}') break;
        if (*p++ != ',') return -1;
        p = ws(p);
    }
    return *ws(p + 1) ? -1 : 0;
}

/* ---- replies ---------------------------------------------------------------------------------------- */

static int out_fd = -1;

/* Writes a whole reply; gives it up (the host went away, and a new client re-syncs) after 5 s. */
static void send_all(const char *b, size_t n) {
    int64_t start = clock_ns(CLOCK_MONOTONIC);
    while (n > 0) {
        ssize_t w = write(out_fd, b, n);
        if (w > 0) {
            b += w;
            n -= w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN && clock_ns(CLOCK_MONOTONIC) - start < 5 * SEC) {
            struct pollfd pf = {out_fd, POLLOUT, 0};
            if (poll(&pf, 1, 100) > 0 && (pf.revents & POLLHUP) && !(pf.revents & POLLOUT)) sleep_ms(100);
            continue;
        }
        say("agent: info reply dropped (%s)", w < 0 ? strerror(errno) : "write returned 0");
        return;
    }
}

static void json_escape(char *out, size_t cap, const char *s) {
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = *s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = c;
        } else if (c < 0x20 || c >= 0x7f) {
            n += snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = c;
        }
    }
    out[n] = 0;
}

/* reply(r, delimited, "\"return\": ...") : one line, with the request's id when it had one */
static void reply(const struct request *r, int delimited, const char *fmt, ...) {
    static char b[8192];
    size_t n = 0;
    if (delimited) b[n++] = (char)0xff;
    b[n++] = '{';
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b + n, sizeof b - n - 8, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    n += (size_t)k < sizeof b - n - 8 ? (size_t)k : sizeof b - n - 9;
    if (r && r->id && (size_t)(r->id_end - r->id) + n + 16 < sizeof b)
        n += snprintf(b + n, sizeof b - n, ", \"id\": %.*s", (int)(r->id_end - r->id), r->id);
    b[n++] = '}';
    b[n++] = '\n';
    send_all(b, n);
}

static void reply_error(const struct request *r, const char *klass, const char *fmt, ...) {
    char desc[512], esc[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    json_escape(esc, sizeof esc, desc);
    reply(r, 0, "\"error\": {\"class\": \"%s\", \"desc\": \"%s\"}", klass, esc);
}

static const char *const commands[] = {
    "guest-sync-delimited", "guest-sync", "guest-ping", "guest-info", "guest-get-time", "guest-set-time",
};

static void handle(const char *obj) {
    struct request r;
    if (parse_request(obj, &r) < 0) {
        reply_error(NULL, "GenericError", "JSON parse error, invalid or incomplete object");
        return;
    }
    if (r.has_execute == 0) {
        reply_error(&r, "GenericError", "Expected 'execute' in QMP input");
        return;
    }
    if (r.has_execute < 0) {
        reply_error(&r, "GenericError", "QMP input member 'execute' must be a string");
        return;
    }
    if (r.args_bad) {
        reply_error(&r, "GenericError", "QMP input member 'arguments' must be an object");
        return;
    }
    const char *c = r.execute;
    if (!strcmp(c, "guest-sync") || !strcmp(c, "guest-sync-delimited")) {
        long long id;
        if (!r.arg_id) {
            reply_error(&r, "GenericError", "Parameter 'id' is missing");
        } else if (json_int(r.arg_id, r.arg_id_end, &id) < 0) {
            reply_error(&r, "GenericError", "Invalid parameter type for 'id', expected: integer");
        } else {
            reply(&r, !strcmp(c, "guest-sync-delimited"), "\"return\": %lld", id);
        }
    } else if (!strcmp(c, "guest-ping")) {
        reply(&r, 0, "\"return\": {}");
    } else if (!strcmp(c, "guest-info")) {
        char list[2048];
        size_t n = 0;
        for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
            n += snprintf(list + n, sizeof list - n, "%s{\"enabled\": true, \"name\": \"%s\", \"success-response\": true}",
                          i ? ", " : "", commands[i]);
        reply(&r, 0, "\"return\": {\"version\": \"%s\", \"supported_commands\": [%s]}", VERSION, list);
    } else if (!strcmp(c, "guest-get-time")) {
        reply(&r, 0, "\"return\": %lld", (long long)clock_ns(CLOCK_REALTIME));
    } else if (!strcmp(c, "guest-set-time")) {
        if (r.arg_time && strncmp(r.arg_time, "null", 4)) {
            long long t;
            if (json_int(r.arg_time, r.arg_time_end, &t) < 0) {
                reply_error(&r, "GenericError", "Invalid parameter type for 'time', expected: integer");
                return;
            }
            if (t < 0) {
                reply_error(&r, "GenericError", "Invalid parameter 'time'");
                return;
            }
            int64_t before = clock_ns(CLOCK_REALTIME);
            if (set_realtime(t) < 0) {
                reply_error(&r, "GenericError", "Failed to set time: %s", strerror(errno));
                return;
            }
            reply(&r, 0, "\"return\": {}");
            say("agent: info guest-set-time %lld.%09lld: clock stepped by %+.3f s%s", t / SEC, t % SEC,
                (double)(t - before) / SEC, dry_run ? " (dry run)" : "");
        } else {
            char why[256];
            int64_t step;
            if (clock_from_rtc(why, sizeof why, &step) < 0) {
                reply_error(&r, "GenericError", "Failed to set the clock from the RTC: %s", why);
                say("agent: info guest-set-time from the RTC failed: %s", why);
                return;
            }
            reply(&r, 0, "\"return\": {}");
            say("agent: info guest-set-time from the RTC: clock stepped by %+.3f s%s", (double)step / SEC,
                dry_run ? " (dry run)" : "");
        }
    } else {
        reply_error(&r, "CommandNotFound", "The command %s has not been found", c);
    }
}

/* ---- the stream ------------------------------------------------------------------------------------- */

/* Splits the byte stream into objects: depth counting outside strings; 0xFF resets; bytes outside an
 * object are skipped. */
static struct {
    char buf[MAX_OBJ + 1];
    size_t len;
    int depth, in_string, escape, overflow;
} st;

static void reset_stream(void) {
    st.len = 0;
    st.depth = st.in_string = st.escape = st.overflow = 0;
}

static void feed(const char *data, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = data[i];
        if (c == 0xff) {
            reset_stream();
            continue;
        }
        if (st.depth == 0) {
            if (c == '{') {
                st.len = 0;
                st.buf[st.len++] = c;
                st.depth = 1;
            }
            continue;
        }
        if (st.len < MAX_OBJ) st.buf[st.len++] = c;
        else st.overflow = 1;
        if (st.in_string) {
            if (st.escape) st.escape = 0;
            else if (c == '\\') st.escape = 1;
            else if (c == '"') st.in_string = 0;
            continue;
        }
        if (c == '"') st.in_string = 1;
        else if (c == '{' || c == '[') st.depth++;
        else if (c == '}' || c == ']') {
            if (--st.depth == 0) {
                if (st.overflow) {
                    reply_error(NULL, "GenericError", "JSON object larger than %d bytes", MAX_OBJ);
                } else {
                    st.buf[st.len] = 0;
                    handle(st.buf);
                }
                reset_stream();
            }
        }
    }
}

/* Serves fd until it fails. EOF (the host side is not connected: virtio-serial reads 0 and polls
 * POLLHUP then) resets the stream and waits for the host. */
static int serve(int in, int out, int stdio) {
    char b[4096];
    out_fd = out;
    int was_connected = 1;
    for (;;) {
        ssize_t n = read(in, b, sizeof b);
        if (n > 0) {
            was_connected = 1;
            feed(b, n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            if (stdio) return 0;
            if (was_connected) reset_stream();
            was_connected = 0;
            sleep_ms(100);
            continue;
        }
        if (errno == EAGAIN) {
            struct pollfd pf = {in, POLLIN, 0};
            poll(&pf, 1, -1);
            if ((pf.revents & POLLHUP) && !(pf.revents & POLLIN)) {
                if (was_connected) reset_stream();
                was_connected = 0;
                sleep_ms(100);
            }
            continue;
        }
        return -1;
    }
}

/* Finds the port: /sys/class/virtio-ports/vportNpM/name == PORT_NAME. Writes /dev/vportNpM to dev. */
static int find_port(char *dev, size_t cap, char *sysdir, size_t syscap) {
    DIR *d = opendir("/sys/class/virtio-ports");
    if (!d) return -1;
    struct dirent *e;
    int found = -1;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[512], name[128];
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, name, sizeof name - 1);
        close(fd);
        if (n <= 0) continue;
        name[n] = 0;
        name[strcspn(name, "\n")] = 0;
        if (!strcmp(name, PORT_NAME)) {
            snprintf(dev, cap, "/dev/%s", e->d_name);
            snprintf(sysdir, syscap, "/sys/class/virtio-ports/%s", e->d_name);
            found = 0;
            break;
        }
    }
    closedir(d);
    return found;
}

static int open_port(const char *dev, const char *sysdir) {
    int fd = open(dev, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT) return fd;
    /* No devtmpfs node: make one from .../dev ("MAJOR:MINOR"). */
    char path[600], b[32];
    unsigned maj, min;
    snprintf(path, sizeof path, "%s/dev", sysdir);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) return -1;
    ssize_t n = read(f, b, sizeof b - 1);
    close(f);
    if (n <= 0) return -1;
    b[n] = 0;
    if (sscanf(b, "%u:%u", &maj, &min) != 2) return -1;
    if (mknod(dev, S_IFCHR | 0600, makedev(maj, min)) < 0 && errno != EEXIST) return -1;
    return open(dev, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

static void open_log(void) {
    int fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return;
    struct termios t;
    if (tcgetattr(fd, &t) == 0 && (t.c_oflag & OPOST)) {
        t.c_oflag &= ~OPOST; /* lines end in '\n' alone, as the dirtier's do (it sets the same) */
        tcsetattr(fd, TCSANOW, &t);
    }
    log_fd = fd;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--shift")) {
        char *end;
        errno = 0;
        long long s = strtoll(argv[2], &end, 10);
        if (errno || end == argv[2] || *end) {
            fprintf(stderr, "qga: --shift needs a signed integer number of seconds, not '%s'\n", argv[2]);
            return 2;
        }
        if (set_realtime(clock_ns(CLOCK_REALTIME) + s * SEC) < 0) {
            fprintf(stderr, "qga: clock_settime: %s\n", strerror(errno));
            return 1;
        }
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--stdio")) {
        dry_run = 1;
        log_fd = 2;
        return serve(0, 1, 1) < 0 ? 1 : 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: qga | qga --stdio | qga --shift SECONDS\n");
        return 2;
    }
    open_log();
    int64_t start = clock_ns(CLOCK_MONOTONIC);
    int told = 0;
    for (;;) {
        char dev[300], sysdir[300];
        if (find_port(dev, sizeof dev, sysdir, sizeof sysdir) == 0) {
            int fd = open_port(dev, sysdir);
            if (fd >= 0) {
                say("agent: up on %s", dev);
                reset_stream();
                serve(fd, fd, 0);
                say("agent: info %s: %s; looking for the port again", dev, strerror(errno));
                close(fd);
            } else if (!told) {
                say("agent: info cannot open %s: %s", dev, strerror(errno));
                told = 1;
            }
            sleep_ms(1000);
            continue;
        }
        if (!told && clock_ns(CLOCK_MONOTONIC) - start > 30 * SEC) {
            say("agent: info no virtio-serial port named %s after 30 s; still looking", PORT_NAME);
            told = 1;
        }
        sleep_ms(clock_ns(CLOCK_MONOTONIC) - start < 30 * SEC ? 20 : 1000);
    }
}
