/*
 * dirtier: the workload of the lab's Linux test guest (Fixtures/guest/linux). It runs from the initramfs
 * (started by /init), fills memory with a page-dependent pattern, rewrites a working set at a chosen
 * rate, verifies what it wrote, watches for pauses (time during which the guest did not run) and
 * reports on the serial console with the same "memfill:" lines as the bare-metal memfill guest.
 *
 * Kernel command line (read from /proc/cmdline; arguments given to the program replace it, for tests):
 *   fill=N    MiB to allocate and fill (default 64)
 *   dirty=N   MiB working set rewritten over and over (default 0: heartbeat and watch pauses only)
 *   rate=N    target dirty rate in MiB/s (0 or absent: as fast as possible)
 *   pause=N   ms; a pause of N ms or more is reported as a failure (default 1000)
 *   selftest-corrupt   after the first full pass, corrupt one word behind the checker's back
 *   verbose   an info line on how each pause was seen; verbose2: also one per RTC second edge
 *
 * Lines (each a single write(2), '\n' terminated, on /dev/ttyS0 with output processing off):
 *   memfill: filled N MiB
 *   memfill: dirtying D MiB at R MiB/s            (or "at max MiB/s"; only when dirty > 0)
 *   memfill: ok pass=P maxpause=M ms             (about once per second)
 *   memfill: pause M ms                          (every pause >= 20 ms)
 *   memfill: FAIL paused M ms (limit L ms)       (a pause >= pause=)
 *   memfill: FAIL corrupt page 0xADDR expected 0xX found 0xY
 *   memfill: info ...                            (diagnostics, free form: not part of the protocol)
 *
 * Pauses are seen two ways (see README.md):
 *   - the VM stopped (QEMU stop/cont, migration switch-over): under TCG the guest's clocks (TSC, HPET,
 *     ACPI PM timer) follow QEMU's virtual clock, which stops with the VM, so CLOCK_MONOTONIC does not
 *     see it; the CMOS RTC follows the host clock. A thread reads /dev/rtc0 (RTC_RD_TIME) every 1 ms
 *     around each predicted second edge and takes (RTC seconds - CLOCK_MONOTONIC) at the edge; that
 *     offset grows by the time stopped.
 *   - the VM running but the vCPU not (auto-converge throttling, host scheduling): CLOCK_MONOTONIC goes
 *     on, so the main loop sees a gap between consecutive steps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define WORDS (PAGE / 8u)
#define MS 1000000LL
#define SEC 1000000000LL
#define PAUSE_MIN_MS 20 /* smallest pause reported */

static int out_fd = 1;
static int verbose; /* "verbose": an info line on how each pause was seen; "verbose2": also every RTC edge */
static long pause_limit_ms = 1000;
static atomic_long max_pause_ms;

static void say(const char *fmt, ...) {
    char b[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof b - 2) n = sizeof b - 2;
    b[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(out_fd, b + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        off += w;
    }
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * SEC + ts.tv_nsec;
}

static void sleep_until(int64_t t) {
    struct timespec ts = {t / SEC, t % SEC};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static void report_pause(int64_t ns, const char *how) {
    if (verbose) say("memfill: info %s %lld us", how, (long long)(ns / 1000));
    long ms = (long)((ns + MS / 2) / MS);
    if (ms < PAUSE_MIN_MS) return;
    long cur = atomic_load(&max_pause_ms);
    while (ms > cur && !atomic_compare_exchange_weak(&max_pause_ms, &cur, ms)) {}
    say("memfill: pause %ld ms", ms);
    if (ms >= pause_limit_ms) say("memfill: FAIL paused %ld ms (limit %ld ms)", ms, pause_limit_ms);
}

/* ---- command line ---- */

static char cmdline[4096];

/* The token "key=N" (space separated), or def. */
static long key_num(const char *key, long def) {
    size_t kl = strlen(key);
    for (const char *p = cmdline; *p;) {
        while (*p == ' ' || *p == '\n' || *p == '\t') p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\n' && *e != '\t') e++;
        if ((size_t)(e - p) > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            char *end;
            long v = strtol(p + kl + 1, &end, 10);
            if (end != p + kl + 1 && v >= 0) return v;
        }
        p = e;
    }
    return def;
}

static int key_flag(const char *key) {
    size_t kl = strlen(key);
    for (const char *p = cmdline; *p;) {
        while (*p == ' ' || *p == '\n' || *p == '\t') p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\n' && *e != '\t') e++;
        if ((size_t)(e - p) == kl && strncmp(p, key, kl) == 0) return 1;
        p = e;
    }
    return 0;
}

/* ---- pause watch through the CMOS RTC ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) { /* m 1..12 */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/*
 * The RTC shows whole seconds, so a sample taken when the seconds change gives a lower bound of the
 * offset O = host time - guest time: exact (within the poll period) when the previous sample, a moment
 * before, still showed the previous second ("tight"), and short by up to a second otherwise (the
 * second may have changed long ago, in host time: during a stop). O only grows while the VM is
 * stopped. So: look at the offset only at tight edges, compare it with the largest of the last
 * quiet ones, and report a growth once a later tight edge shows that it has stopped growing.
 */
static void *rtc_watch(void *arg) {
    int fd = *(int *)arg;
    enum { RING = 10 };
    const int64_t tight = 3 * MS;
    int64_t ring[RING]; /* offsets at the last quiet tight edges */
    int nring = 0, iring = 0;
    int64_t prev_s = -1, prev_m = 0;
    int armed = 0, episode = 0, dense = 1;
    int64_t ep_base = 0, ep_max = 0;
    for (int64_t next = mono_ns();;) {
        sleep_until(next);
        struct rtc_time rt;
        int ok = ioctl(fd, RTC_RD_TIME, &rt) == 0;
        int64_t m = mono_ns();
        int64_t s = ok ? days_from_civil(rt.tm_year + 1900, rt.tm_mon + 1, rt.tm_mday) * 86400 +
                             rt.tm_hour * 3600 + rt.tm_min * 60 + rt.tm_sec
                       : prev_s;
        int64_t base = 0;
        for (int i = 0; i < nring; i++)
            if (i == 0 || ring[i] > base) base = ring[i];
        if (s != prev_s && prev_s >= 0) {
            int64_t lb = s * SEC - m;
            int is_tight = s == prev_s + 1 && m - prev_m <= tight;
            if (!armed) {
                if (is_tight) {
                    armed = 1, dense = 0;
                    ring[0] = lb, nring = 1, iring = 1;
                }
            } else if (episode) {
                if (lb - ep_max >= PAUSE_MIN_MS * MS) {
                    ep_max = lb; /* still growing */
                } else if (is_tight) {
                    report_pause((lb > ep_max ? lb : ep_max) - ep_base, "rtc offset grew");
                    episode = 0, dense = 0;
                    ring[0] = lb, nring = 1, iring = 1;
                }
            } else {
                if (verbose > 1)
                    say("memfill: info rtc edge %+lld us%s", (long long)((lb - base) / 1000), is_tight ? "" : " (loose)");
                if (lb - base >= PAUSE_MIN_MS * MS) {
                    episode = 1, dense = 1;
                    ep_base = base, ep_max = lb;
                } else if (is_tight) {
                    ring[iring] = lb;
                    iring = (iring + 1) % RING;
                    if (nring < RING) nring++;
                    dense = 0;
                } else {
                    dense = 1; /* a loose edge: the offset may have grown unseen; find a tight one */
                }
            }
        }
        prev_s = s, prev_m = m;
        /* Next poll: every 1 ms while looking for a tight edge; otherwise sleep until 3 ms before the
           predicted edge and poll every 1 ms from there. */
        if (dense) {
            next = m + 1 * MS;
        } else {
            for (int i = 0; i < nring; i++)
                if (i == 0 || ring[i] > base) base = ring[i];
            int64_t edge = (prev_s + 1) * SEC - base;
            if (m < edge - 3 * MS) next = edge - 3 * MS;
            else if (m < edge + 30 * MS) next = m + 1 * MS;
            else next = m + 5 * MS; /* late edge (clock drift, slow guest): keep looking */
        }
    }
    return NULL;
}

/* ---- memory ---- */

static uint64_t *mem;
static size_t fill_pages, dirty_pages;
static long corrupt_seen;
static int64_t corrupt_last_print = -SEC;

static inline uint64_t pattern(size_t p, unsigned i) { return ((uint64_t)p << 32 | i) ^ 0xA5A5A5A5A5A5A5A5ull; }
static inline uint64_t genword(size_t p, uint32_t g) { return ((uint64_t)g << 32 | (uint32_t)p) ^ 0x5A5A5A5A5A5A5A5Aull; }

static void corrupt(const volatile uint64_t *addr, uint64_t expected, uint64_t found) {
    corrupt_seen++;
    int64_t now = mono_ns();
    if (corrupt_seen <= 5 || now - corrupt_last_print >= SEC) {
        corrupt_last_print = now;
        say("memfill: FAIL corrupt page 0x%lx expected 0x%llx found 0x%llx", (unsigned long)(uintptr_t)addr,
            (unsigned long long)expected, (unsigned long long)found);
    }
}

/* Generation of the dirty pass being written, and the next page of it. */
static uint32_t gen = 1;
static size_t dpos;

static inline uint64_t expected_word0(size_t p) {
    if (p >= dirty_pages) return genword(p, 0);
    return genword(p, p < dpos ? gen : gen - 1);
}

static void verify_page(size_t p) {
    const volatile uint64_t *w = mem + p * WORDS;
    uint64_t e0 = expected_word0(p);
    if (w[0] != e0) corrupt(&w[0], e0, w[0]);
    for (unsigned i = 1; i < WORDS; i++) {
        uint64_t v = w[i];
        if (v != pattern(p, i)) {
            corrupt(&w[i], pattern(p, i), v);
            return; /* one line per page and sweep */
        }
    }
}

int main(int argc, char **argv) {
    if (argc > 1) {
        size_t n = 0;
        for (int i = 1; i < argc && n + 2 < sizeof cmdline; i++)
            n += snprintf(cmdline + n, sizeof cmdline - n, "%s ", argv[i]);
    } else {
        int fd = open("/proc/cmdline", O_RDONLY);
        if (fd >= 0) {
            ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
            if (n > 0) cmdline[n] = 0;
            close(fd);
        }
    }
    const char *tty = getenv("MEMFILL_TTY");
    if (!tty) tty = "/dev/ttyS0";
    int fd = open(tty, O_WRONLY | O_NOCTTY);
    if (fd < 0) fd = open("/dev/console", O_WRONLY | O_NOCTTY);
    if (fd >= 0) {
        struct termios t;
        if (tcgetattr(fd, &t) == 0) {
            t.c_oflag &= ~OPOST; /* lines end in '\n' alone, as the bare-metal guest's do */
            tcsetattr(fd, TCSANOW, &t);
        }
        out_fd = fd;
    }

    long fill = key_num("fill", 64), dirty = key_num("dirty", 0), rate = key_num("rate", 0);
    pause_limit_ms = key_num("pause", 1000);
    int selftest_corrupt = key_flag("selftest-corrupt");
    verbose = key_flag("verbose2") ? 2 : key_flag("verbose") ? 1 : 0;
    if (fill < 1) fill = 1;
    if (dirty > fill) dirty = fill;
    fill_pages = (size_t)fill << 8;
    dirty_pages = (size_t)dirty << 8;

    const char *rtc_path = getenv("MEMFILL_RTC");
    if (!rtc_path) rtc_path = "/dev/rtc0";
    int rtc = open(rtc_path, O_RDONLY);
    struct rtc_time probe;
    if (rtc >= 0 && ioctl(rtc, RTC_RD_TIME, &probe) == 0) {
        pthread_t th;
        if (pthread_create(&th, NULL, rtc_watch, &rtc) != 0) say("memfill: info no RTC thread: pauses while stopped are not seen");
    } else {
        say("memfill: info no usable %s (%s): pauses while stopped are not seen", rtc_path, strerror(errno));
    }

    mem = mmap(NULL, fill_pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mem == MAP_FAILED) {
        say("memfill: info cannot allocate %ld MiB: %s", fill, strerror(errno));
        return 2;
    }
    for (size_t p = 0; p < fill_pages; p++) {
        uint64_t *w = mem + p * WORDS;
        w[0] = genword(p, 0);
        for (unsigned i = 1; i < WORDS; i++) w[i] = pattern(p, i);
    }
    say("memfill: filled %ld MiB", fill);
    if (dirty > 0) {
        if (rate > 0) say("memfill: dirtying %ld MiB at %ld MiB/s", dirty, rate);
        else say("memfill: dirtying %ld MiB at max MiB/s", dirty);
    }

    /* Whole-page verification sweeps all filled pages: every 8 s while dirtying, every 2 s otherwise. */
    const int64_t sweep_ns = (dirty > 0 ? 8 : 2) * SEC;
    size_t vpos = 0;
    uint64_t verified = 0;
    /* Dirty in chunks of ~5 ms at the target rate (64 KiB .. 1 MiB), pacing against the clock. */
    size_t chunk = 256;
    if (rate > 0) {
        chunk = (size_t)rate * 256 / 200;
        if (chunk < 16) chunk = 16;
        if (chunk > 256) chunk = 256;
    }
    long passes = 0;
    int corrupt_done = !selftest_corrupt;
    uint64_t dirtied = 0, base_dirtied = 0;
    int64_t start = mono_ns(), base_t = start, next_hb = start + SEC;
    int64_t work_typ = 0; /* usual length of one step, ns */
    int64_t t = start;
    for (;;) {
        int64_t t0 = t;
        /* dirty one chunk */
        if (dirty_pages) {
            for (size_t k = 0; k < chunk; k++) {
                volatile uint64_t *w = mem + dpos * WORDS;
                uint64_t old = genword(dpos, gen - 1), v = *w;
                if (v != old) corrupt(w, old, v);
                *w = genword(dpos, gen);
                if (++dpos == dirty_pages) {
                    dpos = 0;
                    gen++;
                    passes++;
                }
            }
            dirtied += chunk;
        }
        /* verify whole pages, in proportion to the time gone */
        uint64_t want = (uint64_t)((double)(t0 - start) / sweep_ns * fill_pages);
        for (int k = 0; verified < want && k < 64; k++, verified++) {
            verify_page(vpos);
            if (++vpos == fill_pages) vpos = 0;
        }
        if (!corrupt_done && (passes >= 1 || (!dirty_pages && t0 - start >= SEC))) {
            corrupt_done = 1;
            size_t p = dirty_pages ? dirty_pages / 2 : fill_pages / 2;
            unsigned i = dirty_pages ? 0 : 17;
            volatile uint64_t *w = mem + p * WORDS + i;
            *w ^= 0x100;
            say("memfill: info selftest-corrupt: flipped a bit at 0x%lx", (unsigned long)(uintptr_t)w);
        }
        if (t0 >= next_hb) {
            say("memfill: ok pass=%ld maxpause=%ld ms", dirty_pages ? passes : (long)((t0 - start) / SEC),
                atomic_load(&max_pause_ms));
            next_hb += SEC;
            if (next_hb <= t0) next_hb = t0 + SEC;
        }
        /* a step far longer than usual means the vCPU did not run (throttling, host scheduling) */
        int64_t t1 = mono_ns(), d = t1 - t0;
        if (d - work_typ >= PAUSE_MIN_MS * MS) {
            report_pause(d - work_typ, "monotonic gap in a step");
            base_t = t1, base_dirtied = dirtied;
        } else {
            work_typ = work_typ ? work_typ + (d - work_typ) / 16 : d;
        }
        /* pace */
        int64_t target;
        if (dirty_pages && rate > 0)
            target = base_t + (int64_t)((double)(dirtied - base_dirtied) * PAGE / ((double)rate * 1048576) * SEC);
        else if (dirty_pages)
            target = t1;
        else
            target = t1 + 10 * MS;
        if (target < t1 - 50 * MS) { /* behind (too slow a guest): don't burst to catch up */
            base_t = t1, base_dirtied = dirtied;
            target = t1;
        }
        if (target > t1) {
            sleep_until(target);
            t = mono_ns();
            if (t - target >= PAUSE_MIN_MS * MS) {
                report_pause(t - target, "monotonic gap in a sleep");
                base_t = t, base_dirtied = dirtied;
            }
        } else {
            t = t1;
        }
    }
}
