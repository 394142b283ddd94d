/*
 * memfill: a tiny multiboot (v1) guest for the lab's live-migration tests. QEMU loads it with -kernel (libvirt:
 * <kernel>); it runs in 32-bit protected mode without paging, under KVM or TCG. It fills memory with a known
 * pattern, dirties a working set at a chosen rate, checks its own memory for corruption, and watches for pauses
 * (real time during which it did not run), reporting on COM1.
 *
 * Kernel command line (multiboot cmdline, libvirt <cmdline>; all optional; unknown words are ignored, a key
 * without a number keeps its default):
 *   fill=N    fill N MiB from 2 MiB up (default 64; at least 1, at most what fits in the RAM the loader
 *             reports). Every word of the page at address P holds P ^ 0x5A5A5A5A: non-zero and different per
 *             page, so a migration has real data to send (QEMU sends zero pages as a flag only) and a page
 *             that lands in the wrong place is caught;
 *   dirty=N   then rewrite word 0 of every page of the first N MiB (at most fill) over and over (default 0: no
 *             dirtying; the pause watch and the verifier go on). Pass g writes P ^ 0x5A5A5A5A ^ g there;
 *   rate=N    dirty N MiB/s on average (one page written = 4 KiB dirtied), in chunks of rate x 10 ms (64 KiB
 *             to 1 MiB) paced on the clock (default 0: as fast as it can, in chunks of 256 KiB);
 *   pause=N   a pause of N ms or more is a failure (default 1000);
 *   verify=N  MiB/s of whole-page verification of the fill area (default 2; 0 = off);
 *   idle=poll never halt while waiting: spin (default: halt until the next 2 ms timer tick, see below);
 *   selftest-corrupt  after the first complete pass (dirty=0: after the first second) overwrite one word of
 *             a page behind the checker's back, to test the FAIL corrupt line.
 *
 * Serial output (COM1; one short line each, parsed by other programs):
 *   memfill: filled N MiB                     once, when the fill is done (the lab waits for it)
 *   memfill: tsc N kHz                        once, the calibrated TSC frequency (information only)
 *   memfill: dirtying D MiB at R MiB/s        once, when dirty>0 ("at max MiB/s" when rate=0)
 *   memfill: ok pass=P maxpause=M ms          once per real second (at each RTC second): P = complete verified
 *                                             passes over the working set (dirty=0: seconds alive), M = largest
 *                                             pause so far (pauses under 5 ms are not measured: M = 0)
 *   memfill: pause M ms                       every pause of 20 ms or more, when it is measured
 *   memfill: FAIL paused M ms (limit L ms)    as well, when the pause is at least the pause= limit
 *   memfill: FAIL corrupt page 0xADDR expected 0xX found 0xY
 *                                             a wrong word (ADDR is the word's own address; the word is repaired
 *                                             and the run goes on); the first 5 at once, then at most 1 a second
 *   memfill: FAIL exception N                 a CPU exception (a bug): the guest stops
 *
 * Memory check. Before a pass rewrites word 0 of a page it checks the word still holds what the previous pass
 * (or the fill) wrote. A verifier sweeps the whole fill area, one `repe scasl` per page, against the pattern
 * (word 0 of working-set pages is left to the passes): verify= MiB each second, in the waits between paced
 * chunks and when idle, or one page every 8 chunks when rate=0 (within the same budget).
 *
 * Pause measurement. Measured here (QEMU 7.2; Fixtures/guest/selftest shows it), the guest has two clocks:
 *  - the TSC: under KVM it counts host time also while the VM is stopped (stop/cont) and across a live
 *    migration; under TCG it is frozen while the VM is stopped (stop/cont, the switch-over of a migration);
 *  - the CMOS RTC (ports 0x70/0x71): QEMU computes it from the host clock (-rtc clock=host, the default), so it
 *    follows real time in every case. It only tells whole seconds, but the moment its seconds register changes
 *    (an "edge") is seen to within the polling interval.
 * Polls: a poll is one rdtsc and one read of the RTC data port (the index stays at the seconds register), after
 * every chunk, every verified page, every wake from hlt, and every ~50 us while spinning. Time is kept in
 * "ticks" = TSC / 64. The tick rate is calibrated on RTC edges while filling and just after (3 s or more; the
 * seconds must agree to 1/1024 and be seen sharply), then refined at edges over baselines of 4, 8, ... 4096 s
 * with no hidden pause in them.
 *  1. Visible pause (the TSC ran, the guest did not): the gap between two polls. A gap of 5 ms or more is a
 *     pause of that length. Resolution: the polling interval (2 ms while halted; while busy, < 1 ms under KVM
 *     and microseconds under TCG).
 *  2. Hidden pause (the TSC was frozen): at each edge seen sharply (the previous poll less than 5 ms before) the
 *     step = (RTC seconds since the previous sharp edge) x tick rate - (ticks since it) is real time the TSC did
 *     not see: the edge came early in TSC terms. A pause across an edge is split over two edges (the first edge
 *     after it is seen late), so a step over 5 ms opens a window that adds up the steps until one is under 5 ms
 *     (4 edges at most): the sum is the pause, printed 1-2 s after the pause. Resolution: twice the polling
 *     interval near edges (it spins within 5 ms of an expected edge: ~20 us under KVM; TCG a few ms, its RTC
 *     reads wait for QEMU's global lock) plus the calibration error over ~1 s. Edges seen after a gap are not
 *     used (the gap is counted already); edges more than 20 s of TSC apart are not compared.
 * Measured: stop/cont of 30 ms .. 65 s is reported within 5 ms (KVM and TCG; 0.1% of a 25 s one under KVM
 * before the first refinement of the calibration). A migration's switch-over: ~3 ms more than the time from
 * QEMU's STOP event (source) to RESUME (destination); under KVM the TSC can come out a few ms off on the new
 * host (seen: 5 ms), which goes into that figure. With auto-converge the throttling sleep under way at the
 * switch-over counts too (90 ms guest pause at 90% throttle where QEMU says 13 ms downtime). Throttling sleeps
 * are pauses (40 ms at 80%, 90 ms at 90%), and so are host scheduling delays: this busy 2-core host gives
 * 20-100 ms ones now and then. A pause with a visible and a hidden part shows as two.
 * Heartbeats come at RTC edges; rate pacing uses the ticks (real time while the guest runs) and does not catch
 * up after a pause.
 * Limits: a pause of a day or more is miscounted (the RTC is read as time of day); nobody may set the RTC.
 *
 * CPU. The emulating (paravirtual, no VMX) KVM here executes guest kernel code one instruction at a time
 * (~2.5 M instructions/s; `rep` string instructions ~80 ns per element) and cannot execute a protected-mode
 * iret. So interrupts stay disabled except inside `sti; hlt`: the PIT ticks at 500 Hz through the PIC only to
 * end a hlt, and its handler drops the interrupt frame and jumps back instead of iret. Waiting this way costs
 * ~4% of a host CPU under KVM, spinning ~90%; the verifier ~10% per MiB/s under KVM (negligible under TCG).
 */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000002           /* bit 1: ask the loader for mem_lower/mem_upper */
    .set COM1, 0x3F8
    .set CMOS_INDEX, 0x70
    .set CMOS_DATA, 0x71
    .set FILL_BASE, 0x200000            /* 2 MiB: above this program and the multiboot data */
    .set PATTERN, 0x5A5A5A5A
    .set TSC_SHIFT, 6                   /* ticks = TSC >> 6: ~40 MHz for a 2.6 GHz TSC, 32 bits hold ~100 s */
    .set CHUNK_PAGES, 64                /* dirtying chunk at rate=0: 256 KiB */
    .set CHUNK_MS, 10                   /* paced: chunks of rate * 10 ms, from 64 KiB up to 1 MiB */
    .set MAX_RATE, 100000               /* MiB/s */
    .set MAX_VERIFY_EVERY, 8            /* rate=0: verify one page every 8 chunks */
    .set VERIFY_MIBS, 2                 /* default verify=: MiB/s the verifier checks */
    .set WAKE_HZ, 500                   /* PIT ticks that wake the guest from hlt while it waits */
    .set PIT_HZ, 1193182
    .set CODE_SEL, 0x08
    .set DATA_SEL, 0x10
    .set IDT_ENTRIES, 48                /* exceptions 0-31, PIC interrupts 32-47 */
    .set NOISE_MS, 5                    /* gaps and steps below this are noise */
    .set REPORT_MS, 20                  /* pauses from this long are printed */
    .set LAG_MS, 20                     /* pacing: fall behind more than this and it starts over (no catch-up) */
    .set STALE_S, 20                    /* do not compare edges further apart than this (in TSC time) */
    .set CAL_TOLERANCE_SHIFT, 10        /* calibration intervals must agree to 1/1024 */
    .set CAL_MIN_INTERVALS, 3
    .set CAL_MAX_INTERVALS, 16
    .set CAL_MAX_RESTARTS, 8
    .set CAL_SHARP_TICKS, 0x10000       /* calibration: an edge counts if the previous sample is this close */
    .set CORRUPT_FIRST, 5               /* corrupt lines printed before the 1-a-second limit */
    .set PAUSE_LINES_PER_S, 20

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text
    .code32
    .globl _start
_start:
    cli
    cld
    mov     $stack_top, %esp
    call    parse_cmdline
    call    setup_cpu
    call    rtc_init

/* Fill: one `rep stosl` per page (a word-by-word loop is far too slow under the emulating KVM), sampling the
   RTC between pages to calibrate the TSC. */
    mov     $-1, %eax
    mov     %eax, cal_n                 /* no edge seen yet */
    call    read_ticks
    mov     %eax, cal_sample
    call    rtc_seconds
    mov     %al, cal_sec
    mov     fill_end, %ebx
    mov     $FILL_BASE, %edi
fill_page:
    mov     %edi, %eax
    xor     $PATTERN, %eax
    mov     $1024, %ecx
    rep stosl
    call    cal_poll
    cmp     %ebx, %edi
    jb      fill_page

    mov     $msg_filled, %esi
    call    puts
    mov     fill_mib, %eax
    call    putdec
    mov     $msg_mib_nl, %esi
    call    puts

    call    calibrate
    call    clock_init

    mov     dirty_mib, %eax
    test    %eax, %eax
    jnz     start_dirtying
idle_loop:                              /* dirty=0: the pause watch and the verifier only */
    call    clock_poll
    call    idle_step
    jmp     idle_loop

start_dirtying:
    mov     $msg_dirtying, %esi
    call    puts
    call    putdec
    mov     $msg_at, %esi
    call    puts
    mov     rate, %eax
    test    %eax, %eax
    jz      1f
    call    putdec
    jmp     2f
1:  mov     $msg_max, %esi
    call    puts
2:  mov     $msg_mibs_nl, %esi
    call    puts
    mov     now_lo, %eax                /* first chunk due now */
    mov     %eax, due_lo
    mov     now_hi, %eax
    mov     %eax, due_hi
dirty_loop:
    call    clock_poll
    cmpl    $0, rate
    je      dirty_max
    mov     now_lo, %eax                /* paced: wait (verifying) until the next chunk is due */
    mov     now_hi, %edx
    sub     due_lo, %eax
    sbb     due_hi, %edx
    jns     1f
    call    idle_step
    jmp     dirty_loop
1:  test    %edx, %edx                  /* more than LAG_MS late (a pause, or the rate is out of reach): */
    jnz     2f                          /* start over from now rather than catch up in a burst */
    cmp     lag_ticks, %eax
    jbe     3f
2:  mov     now_lo, %eax
    mov     %eax, due_lo
    mov     now_hi, %eax
    mov     %eax, due_hi
3:  mov     chunk_ticks, %eax
    add     %eax, due_lo
    adcl    $0, due_hi
    call    dirty_chunk
    jmp     dirty_loop
dirty_max:
    call    dirty_chunk
    decl    max_verify_count
    jnz     dirty_loop
    movl    $MAX_VERIFY_EVERY, max_verify_count
    cmpl    $0, verify_budget
    je      dirty_loop
    decl    verify_budget
    call    verify_page
    jmp     dirty_loop

/* ---------------------------------------------------------------------------------------------------------
 * Dirtying and checking memory
 * ------------------------------------------------------------------------------------------------------- */

/* dirty_chunk: rewrite word 0 of the next CHUNK_PAGES pages of the working set, checking each still holds
   what the previous pass wrote (P ^ kold); the new value is P ^ kold ^ kxor. All registers preserved. */
dirty_chunk:
    pusha
    mov     dirty_cur, %edi
    mov     kold, %ebx
    mov     kxor, %edx
    mov     dirty_end, %ebp
    mov     chunk_pages, %ecx
1:  mov     %edi, %eax
    xor     %ebx, %eax                  /* what the previous pass (or the fill) left there */
    cmp     %eax, (%edi)
    jne     5f
2:  xor     %edx, %eax                  /* this pass's value */
    mov     %eax, (%edi)
    add     $4096, %edi
    cmp     %ebp, %edi
    jae     4f
3:  dec     %ecx
    jnz     1b
    mov     %edi, dirty_cur
    popa
    ret
4:  call    pass_done                   /* end of the working set: next generation */
    mov     kold, %ebx
    mov     kxor, %edx
    mov     $FILL_BASE, %edi
    jmp     3b
5:  mov     (%edi), %esi
    call    report_corrupt              /* then overwrite it with this pass's value, as usual */
    jmp     2b

/* pass_done: a complete pass over the working set: count it and move to the next generation. */
pass_done:
    push    %eax
    incl    passes
    mov     generation, %eax            /* g: the pass just done */
    xor     $PATTERN, %eax
    mov     %eax, kold                  /* what the next pass finds: P ^ PATTERN ^ g */
    mov     generation, %eax
    incl    generation
    xor     generation, %eax
    mov     %eax, kxor                  /* g ^ (g + 1) */
    cmpl    $1, passes
    jne     1f
    call    maybe_corrupt
1:  pop     %eax
    ret

/* verify_page: check the whole page at verify_cur against the pattern (word 0 only outside the working set:
   inside it the passes check word 0), report and repair wrong words, move to the next page. */
verify_page:
    pusha
    mov     verify_cur, %edi
    mov     %edi, %eax
    xor     $PATTERN, %eax
    cmp     dirty_end, %edi
    jb      1f
    cmp     %eax, (%edi)
    je      1f
    mov     (%edi), %esi
    call    report_corrupt
    mov     %eax, (%edi)
1:  add     $4, %edi
    mov     $1023, %ecx
2:  repe scasl
    je      3f                          /* ran out of ECX with every word equal */
    mov     -4(%edi), %esi              /* the word before EDI differs */
    sub     $4, %edi
    call    report_corrupt
    mov     %eax, (%edi)
    add     $4, %edi
    test    %ecx, %ecx
    jnz     2b
3:  mov     verify_cur, %edi
    add     $4096, %edi
    cmp     fill_end, %edi
    jb      4f
    mov     $FILL_BASE, %edi
4:  mov     %edi, verify_cur
    popa
    ret

/* idle_step: one step of waiting (for the next paced chunk, or forever when dirty=0), called between polls:
   verify a page if this second's budget allows; else, unless an RTC edge is due within NOISE_MS (then it
   must be seen sharply: spin ~50 us with `pause`), halt until the next PIT tick (2 ms) to keep the CPU use
   low (a chunk may start up to 2 ms late; the next one is due as planned). idle=poll: always spin. */
idle_step:
    cmpl    $0, verify_budget
    je      1f
    decl    verify_budget
    jmp     verify_page
1:  pusha
    cmpb    $0, idle_poll
    jne     4f
    mov     now_lo, %eax                /* phase = ticks since the last edge: spin when it is within */
    mov     now_hi, %edx                /* NOISE_MS of one second */
    sub     edge_lo, %eax
    sbb     edge_hi, %edx
    test    %edx, %edx
    jnz     2f
    sub     tick_hz, %eax
    add     noise_ticks, %eax
    mov     noise_ticks, %ecx
    add     %ecx, %ecx
    cmp     %ecx, %eax
    jbe     4f
2:  sti                                 /* the tick interrupt comes back to the instruction after hlt */
    hlt
    cli
    jmp     9f
4:  call    read_ticks
    mov     %eax, %ebx
5:  pause
    call    read_ticks
    sub     %ebx, %eax
    cmp     spin_ticks, %eax
    jb      5b
9:  popa
    ret

/* maybe_corrupt: for selftest-corrupt, once: invert word 128 of the page 8 pages ahead of the verifier. */
maybe_corrupt:
    cmpb    $0, corrupt_pending
    je      2f
    movb    $0, corrupt_pending
    push    %edi
    mov     verify_cur, %edi
    add     $8 * 4096, %edi
    cmp     fill_end, %edi
    jb      1f
    mov     $FILL_BASE, %edi
1:  notl    128 * 4(%edi)
    pop     %edi
2:  ret

/* report_corrupt: EDI = address, EAX = expected, ESI = found; prints a FAIL corrupt line if the budget
   allows. All registers preserved. */
report_corrupt:
    cmpl    $0, corrupt_budget
    je      1f
    decl    corrupt_budget
    pusha
    mov     %eax, %ebx
    mov     %esi, %ebp
    mov     $msg_corrupt, %esi
    call    puts
    mov     %edi, %eax
    call    puthex
    mov     $msg_expected, %esi
    call    puts
    mov     %ebx, %eax
    call    puthex
    mov     $msg_found, %esi
    call    puts
    mov     %ebp, %eax
    call    puthex
    mov     $'\n', %al
    call    putc
    popa
1:  ret

/* ---------------------------------------------------------------------------------------------------------
 * Clock: TSC ticks, RTC edges, pauses, heartbeats (see the header comment)
 * ------------------------------------------------------------------------------------------------------- */

/* read_ticks: EDX:EAX = TSC >> TSC_SHIFT. */
read_ticks:
    rdtsc
    shrd    $TSC_SHIFT, %edx, %eax
    shr     $TSC_SHIFT, %edx
    ret

/* rtc_seconds: AL = the RTC seconds register, raw. The index register is left at 0 (seconds) by every RTC
   access here, so the polls read the data port only. */
rtc_seconds:
    in      $CMOS_DATA, %al
    ret

/* rtc_reg: AL = register number -> AL = its value; leaves the index at 0. */
rtc_reg:
    out     %al, $CMOS_INDEX
    in      $CMOS_DATA, %al
    push    %eax
    xor     %al, %al
    out     %al, $CMOS_INDEX
    pop     %eax
    ret

/* rtc_init: read the data format of register B (bit 2: binary, else BCD; bit 1: 24-hour, else 12-hour). */
rtc_init:
    mov     $0x0B, %al
    call    rtc_reg
    mov     %al, rtc_format
    ret

/* bcd: AL = RTC value -> EAX = binary (if the RTC is in BCD mode). */
bcd:
    movzbl  %al, %eax
    testb   $4, rtc_format
    jnz     1f
    push    %edx
    mov     %eax, %edx
    and     $0x0F, %edx
    shr     $4, %eax
    imul    $10, %eax
    add     %edx, %eax
    pop     %edx
1:  ret

/* rtc_read_sod: EAX = the RTC time of day in seconds. Waits while the update-in-progress bit is set and
   re-reads until the seconds did not change during the read. */
rtc_read_sod:
    push    %ebx
    push    %ecx
    push    %edx
1:  mov     $10000, %ecx
2:  mov     $0x0A, %al                  /* register A bit 7: update in progress (QEMU: last 244 us of a second) */
    call    rtc_reg
    test    $0x80, %al
    loopnz  2b
    xor     %al, %al
    call    rtc_reg
    mov     %al, %bl                    /* seconds */
    mov     $2, %al
    call    rtc_reg
    mov     %al, %bh                    /* minutes */
    mov     $4, %al
    call    rtc_reg
    mov     %al, %cl                    /* hours */
    xor     %al, %al
    call    rtc_reg
    cmp     %al, %bl
    jne     1b
    mov     %cl, %al                    /* hours: 12-hour mode has bit 7 = PM and 12 for 0 */
    and     $0x7F, %al
    call    bcd
    testb   $2, rtc_format
    jnz     3f
    cmp     $12, %eax
    jne     4f
    xor     %eax, %eax
4:  test    $0x80, %cl
    jz      3f
    add     $12, %eax
3:  imul    $60, %eax, %edx
    mov     %bh, %al
    call    bcd
    add     %eax, %edx
    imul    $60, %edx
    mov     %bl, %al
    call    bcd
    add     %edx, %eax
    pop     %edx
    pop     %ecx
    pop     %ebx
    ret

/* cal_poll: calibration sample, called between fill pages and in calibrate: on an RTC edge seen sharply (the
   previous sample less than CAL_SHARP_TICKS before), time the second since the previous edge; an edge seen
   late, or a second that disagrees with the first by more than 1/1024 (a pause), restarts the calibration
   from the next edge. All registers preserved. */
cal_poll:
    pusha
    call    read_ticks                  /* low 32 bits: differences of up to ~100 s are exact */
    mov     %eax, %ebx
    sub     cal_sample, %ebx            /* EBX = ticks since the previous sample */
    mov     %eax, cal_sample
    call    rtc_seconds
    cmp     cal_sec, %al
    je      9f
    mov     %al, cal_sec
    mov     cal_sample, %eax
    mov     cal_n, %ecx
    cmp     $CAL_MAX_INTERVALS, %ecx
    jge     9f                          /* enough */
    cmp     $CAL_SHARP_TICKS, %ebx
    jae     5f                          /* seen late: start again */
    test    %ecx, %ecx
    js      2f                          /* first edge */
    mov     %eax, %edx
    sub     cal_prev, %edx              /* this second in ticks */
    mov     %eax, cal_prev
    test    %ecx, %ecx
    jnz     1f
    mov     %edx, cal_first_interval
    incl    cal_n
    jmp     9f
1:  mov     cal_first_interval, %esi
    sub     %esi, %edx
    jns     3f
    neg     %edx
3:  shr     $CAL_TOLERANCE_SHIFT, %esi
    cmp     %esi, %edx
    jbe     4f
5:  cmpl    $CAL_MAX_RESTARTS, cal_restarts
    jae     6f                          /* keep going anyway rather than never start */
    incl    cal_restarts
    cmp     $CAL_SHARP_TICKS, %ebx
    jb      2f
    movl    $-1, cal_n                  /* this edge is no start either */
    jmp     9f
2:  mov     %eax, cal_first
    mov     %eax, cal_prev
    movl    $0, cal_n
    jmp     9f
    /* Past the restart limit: an edge seen late still ends a second (timed less sharply), so that the
       calibration moves on; with no start yet it is the start. (Counting it without moving cal_prev gave a
       TSC of 0 kHz on a loaded host, and every later pause read as 2^32 - 1 ms.) */
6:  test    %ecx, %ecx
    js      2b
    mov     %eax, cal_prev
4:  incl    cal_n
9:  popa
    ret

/* calibrate: finish the calibration (at least CAL_MIN_INTERVALS seconds timed), derive the constants. */
calibrate:
    call    cal_poll
    cmpl    $CAL_MIN_INTERVALS, cal_n
    jl      calibrate
    mov     cal_prev, %eax
    sub     cal_first, %eax
    xor     %edx, %edx
    divl    cal_n
    mov     %eax, tick_hz
    call    derive_constants
    mov     $msg_tsc, %esi              /* TSC kHz = ticks per ms << TSC_SHIFT */
    call    puts
    mov     ticks_per_ms, %eax
    shl     $TSC_SHIFT, %eax
    call    putdec
    mov     $msg_khz_nl, %esi
    call    puts
    ret

/* derive_constants: the time constants in ticks, from tick_hz. All registers preserved. */
derive_constants:
    pusha
    mov     tick_hz, %eax
    xor     %edx, %edx
    mov     $1000, %ecx
    div     %ecx
    mov     %eax, ticks_per_ms
    imul    $NOISE_MS, %eax, %edx
    mov     %edx, noise_ticks
    imul    $LAG_MS, %eax, %edx
    mov     %edx, lag_ticks
    xor     %edx, %edx
    mov     $10, %ecx
    div     %ecx
    shr     $1, %eax
    mov     %eax, spin_ticks            /* 50 us */
    mov     tick_hz, %eax
    imul    $STALE_S, %eax, %edx
    mov     %edx, stale_ticks
    mov     rate, %ecx                  /* chunk period = chunk_pages / (rate * 256) s */
    test    %ecx, %ecx
    jz      1f
    shl     $8, %ecx
    mov     tick_hz, %eax
    mull    chunk_pages
    div     %ecx
    test    %eax, %eax
    jnz     2f
    inc     %eax
2:  mov     %eax, chunk_ticks
1:  popa
    ret

/* recalibrate: at a sharp edge (EBX = time of day), refine tick_hz over a growing baseline of RTC seconds
   (4, 8, ... 4096 s) from an anchor edge, as long as no hidden pause was seen since the anchor (visible
   pauses do not matter: RTC and TSC both ran). */
recalibrate:
    cmpb    $0, window_open
    jne     8f
    cmpb    $0, anchor_valid
    je      7f
    mov     %ebx, %ecx                  /* ECX = RTC seconds since the anchor */
    sub     anchor_sod, %ecx
    jns     1f
    add     $86400, %ecx
1:  cmp     anchor_target, %ecx
    jb      9f
    cmp     $40000, %ecx                /* keep clear of the time-of-day wrap */
    ja      7f
    mov     now_lo, %eax
    mov     now_hi, %edx
    sub     anchor_lo, %eax
    sbb     anchor_hi, %edx
    cmp     %ecx, %edx
    jae     8f                          /* would overflow: not plausible */
    div     %ecx
    mov     tick_hz, %edx               /* accept within 1/64 of the current value */
    shr     $6, %edx
    mov     %eax, %esi
    sub     tick_hz, %esi
    jns     2f
    neg     %esi
2:  cmp     %edx, %esi
    ja      8f
    mov     %eax, tick_hz
    call    derive_constants
    cmpl    $4096, anchor_target
    jae     9f
    shll    anchor_target
    ret
7:  mov     now_lo, %eax                /* new anchor here */
    mov     %eax, anchor_lo
    mov     now_hi, %eax
    mov     %eax, anchor_hi
    mov     %ebx, anchor_sod
    movl    $4, anchor_target
    movb    $1, anchor_valid
    ret
8:  movb    $0, anchor_valid
9:  ret

/* clock_init: start the pause watch from now. */
clock_init:
    call    read_ticks
    mov     %eax, now_lo
    mov     %edx, now_hi
    call    rtc_seconds
    mov     %al, rtc_sec
    call    rtc_read_sod
    mov     %eax, last_sod
    movb    $0, ref_valid
    ret

/* clock_poll: one poll: TSC gap since the previous poll (a visible pause if >= NOISE_MS), then the RTC
   seconds register (an edge: heartbeat, hidden-pause step). Updates now_lo/now_hi. All registers preserved. */
clock_poll:
    pusha
    call    read_ticks
    mov     %eax, %esi
    mov     %edx, %edi
    sub     now_lo, %eax
    sbb     now_hi, %edx
    mov     %esi, now_lo
    mov     %edi, now_hi
    movb    $1, sharp
    test    %edx, %edx
    jnz     1f
    cmp     noise_ticks, %eax
    jb      2f
1:  movb    $0, sharp                   /* a gap: an edge seen now may be late */
    call    ticks_to_ms
    call    note_pause
2:  call    rtc_seconds
    cmp     rtc_sec, %al
    je      3f
    mov     %al, rtc_sec
    call    rtc_edge
3:  popa
    ret

/* rtc_edge: the RTC seconds changed (at tick now_lo/now_hi): hidden-pause step, then the heartbeat. */
rtc_edge:
    mov     now_lo, %eax
    mov     %eax, edge_lo
    mov     now_hi, %eax
    mov     %eax, edge_hi
    call    rtc_read_sod
    mov     %eax, %ebx                  /* EBX = time of day */
    mov     %eax, %ecx
    sub     last_sod, %ecx
    jns     1f
    add     $86400, %ecx
1:  add     %ecx, alive_seconds
    mov     %eax, last_sod
    cmpb    $0, sharp
    je      heartbeat
    cmpb    $0, ref_valid
    je      4f
    mov     now_lo, %esi                /* EDI:ESI = ticks since the reference edge */
    mov     now_hi, %edi
    sub     ref_lo, %esi
    sbb     ref_hi, %edi
    test    %edi, %edi
    jnz     4f
    cmp     stale_ticks, %esi
    ja      4f
    mov     %ebx, %eax                  /* RTC seconds since the reference edge */
    sub     ref_sod, %eax
    jns     2f
    add     $86400, %eax
2:  mull    tick_hz                     /* step = seconds * tick_hz - ticks: real time the TSC did not see */
    sub     %esi, %eax
    sbb     %edi, %edx
    call    hidden_step
4:  mov     now_lo, %eax                /* this sharp edge is the new reference */
    mov     %eax, ref_lo
    mov     now_hi, %eax
    mov     %eax, ref_hi
    mov     %ebx, ref_sod
    movb    $1, ref_valid
    call    recalibrate
heartbeat:
    mov     verify_pages, %eax
    mov     %eax, verify_budget
    movl    $PAUSE_LINES_PER_S, pause_lines
    cmpl    $0, corrupt_budget
    jne     5f
    incl    corrupt_budget
5:  mov     $msg_ok, %esi
    call    puts
    mov     passes, %eax
    cmpl    $0, dirty_mib
    jne     6f
    mov     alive_seconds, %eax
    call    maybe_corrupt               /* dirty=0: selftest-corrupt after the first second */
6:  call    putdec
    mov     $msg_maxpause, %esi
    call    puts
    mov     maxpause, %eax
    call    putdec
    mov     $msg_ms_nl, %esi
    call    puts
    ret

/* hidden_step: EDX:EAX = signed step in ticks at a sharp edge. Steps above the noise open a window that
   sums steps until one is within the noise (or 3 edges): the sum is one hidden pause. A step below -noise
   (the TSC ran ahead of the RTC: KVM sets it a few ms off on the new host of a migration) only restarts the
   calibration baseline. */
hidden_step:
    cmpb    $0, window_open
    jne     2f
    test    %edx, %edx
    js      5f
    jnz     1f
    cmp     noise_ticks, %eax
    jbe     9f
1:  movb    $1, window_open
    movl    $0, window_edges
    mov     %eax, pend_lo
    mov     %edx, pend_hi
    ret
2:  add     %eax, pend_lo
    adc     %edx, pend_hi
    incl    window_edges
    test    %edx, %edx                  /* close on a step within the noise */
    js      3f
    jnz     4f
    cmp     noise_ticks, %eax
    jbe     3f
4:  cmpl    $3, window_edges
    jb      9f
3:  movb    $0, window_open
    mov     pend_lo, %eax
    mov     pend_hi, %edx
    test    %edx, %edx
    js      9f
    call    ticks_to_ms
    cmp     $NOISE_MS, %eax
    jb      9f
    call    note_pause
9:  ret
5:  add     noise_ticks, %eax
    adc     $0, %edx
    jns     9b
    movb    $0, anchor_valid
    ret

/* ticks_to_ms: EDX:EAX = unsigned ticks -> EAX = ms (saturated). */
ticks_to_ms:
    cmp     ticks_per_ms, %edx
    jae     1f
    divl    ticks_per_ms
    ret
1:  mov     $0xFFFFFFFF, %eax
    ret

/* note_pause: EAX = a pause in ms: maxpause, "pause" line (from REPORT_MS), "FAIL paused" line (from the
   limit). All registers preserved. */
note_pause:
    pusha
    mov     %eax, %ebx
    cmp     maxpause, %eax
    jbe     1f
    mov     %eax, maxpause
1:  cmp     $REPORT_MS, %ebx
    jb      9f
    cmpl    $0, pause_lines
    je      2f
    decl    pause_lines
    mov     $msg_pause, %esi
    call    puts
    mov     %ebx, %eax
    call    putdec
    mov     $msg_ms_nl, %esi
    call    puts
2:  cmp     pause_limit, %ebx
    jb      9f
    mov     $msg_fail_paused, %esi
    call    puts
    mov     %ebx, %eax
    call    putdec
    mov     $msg_limit, %esi
    call    puts
    mov     pause_limit, %eax
    call    putdec
    mov     $msg_ms_close_nl, %esi
    call    puts
9:  popa
    ret

/* ---------------------------------------------------------------------------------------------------------
 * CPU set-up: interrupts only to wake from hlt
 * ------------------------------------------------------------------------------------------------------- */

/* setup_cpu: a flat GDT of our own, an IDT (exceptions: report and stop; PIC interrupts: wake from hlt), the
   PICs at vectors 32-47 with only IRQ0 unmasked, PIT channel 0 ticking at WAKE_HZ. Interrupts stay disabled
   except inside the `sti; hlt` of idle_step, and no handler returns with iret (the emulating KVM here cannot
   execute it): the tick handler drops its frame and jumps back to the interrupted address, IF still clear. */
setup_cpu:
    lgdt    gdt_desc
    ljmp    $CODE_SEL, $1f
1:  mov     $DATA_SEL, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %fs
    mov     %ax, %gs
    mov     %ax, %ss
    mov     $idt, %edi
    mov     $exception_stubs, %esi
    xor     %ecx, %ecx
2:  mov     %esi, %eax                  /* vectors 0-31: exception_stubs + 8 * vector */
    cmp     $2, %ecx
    jne     3f
    mov     $nmi_entry, %eax
3:  cmp     $32, %ecx
    jb      4f
    mov     $irq_entry, %eax
4:  mov     %ax, (%edi)                 /* 32-bit interrupt gate, ring 0 */
    movw    $CODE_SEL, 2(%edi)
    movw    $0x8E00, 4(%edi)
    shr     $16, %eax
    mov     %ax, 6(%edi)
    add     $8, %edi
    add     $8, %esi
    inc     %ecx
    cmp     $IDT_ENTRIES, %ecx
    jb      2b
    lidt    idt_desc
    mov     $0x11, %al                  /* PIC ICW1: initialise, ICW4 follows */
    out     %al, $0x20
    out     %al, $0xA0
    mov     $32, %al                    /* ICW2: vector bases */
    out     %al, $0x21
    mov     $40, %al
    out     %al, $0xA1
    mov     $4, %al                     /* ICW3: slave on IRQ2 */
    out     %al, $0x21
    mov     $2, %al
    out     %al, $0xA1
    mov     $1, %al                     /* ICW4: 8086 mode */
    out     %al, $0x21
    out     %al, $0xA1
    mov     $0xFE, %al                  /* masks: IRQ0 (PIT) only */
    out     %al, $0x21
    mov     $0xFF, %al
    out     %al, $0xA1
    mov     $0x34, %al                  /* PIT channel 0, lobyte/hibyte, mode 2 (rate generator) */
    out     %al, $0x43
    mov     $(PIT_HZ / WAKE_HZ) & 0xFF, %al
    out     %al, $0x40
    mov     $(PIT_HZ / WAKE_HZ) >> 8, %al
    out     %al, $0x40
    ret

/* irq_entry: a PIC interrupt (the PIT tick) woke the hlt: EOI, drop the frame, go on after the hlt. */
irq_entry:
    push    %eax
    mov     $0x20, %al
    out     %al, $0x20
    pop     %eax
    popl    irq_return
    add     $8, %esp                    /* CS, EFLAGS: IF stays clear */
    jmp     *irq_return

/* nmi_entry: an NMI (e.g. QEMU's `nmi` command) is ignored the same way (further NMIs stay blocked). */
nmi_entry:
    popl    irq_return
    add     $8, %esp
    jmp     *irq_return

/* exception_stubs: 8 bytes per vector: push the vector, report it, stop. */
    .align 8
exception_stubs:
    .set vector, 0
    .rept 32
    .align 8
    push    $vector
    jmp     exception
    .set vector, vector + 1
    .endr
exception:
    mov     $msg_exception, %esi
    call    puts
    pop     %eax
    call    putdec
    mov     $'\n', %al
    call    putc
1:  cli
    hlt
    jmp     1b

/* ---------------------------------------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------------------------------------- */

/* parse_cmdline: EBX = multiboot information. Sets fill/dirty/rate/pause and the derived addresses. */
parse_cmdline:
    mov     %ebx, %ebp
    testl   $4, (%ebp)                  /* flags bit 2: cmdline (offset 16) valid */
    jz      5f
    mov     16(%ebp), %esi
    mov     $key_fill, %edi
    call    find_number
    jc      1f
    mov     %eax, fill_mib
1:  mov     $key_dirty, %edi
    call    find_number
    jc      2f
    mov     %eax, dirty_mib
2:  mov     $key_rate, %edi
    call    find_number
    jc      3f
    cmp     $MAX_RATE, %eax
    jbe     13f
    mov     $MAX_RATE, %eax
13: mov     %eax, rate
3:  mov     $key_pause, %edi
    call    find_number
    jc      4f
    mov     %eax, pause_limit
4:  mov     $key_verify, %edi
    call    find_number
    jc      10f
    cmp     $4096, %eax
    jbe     11f
    mov     $4096, %eax
11: shl     $8, %eax                    /* MiB/s -> pages/s */
    mov     %eax, verify_pages
10: mov     $key_corrupt, %edi
    call    find_key
    jc      12f
    movb    $1, corrupt_pending
12: mov     $key_idle_poll, %edi
    call    find_key
    jc      5f
    movb    $1, idle_poll
5:  testl   $1, (%ebp)                  /* flags bit 0: mem_upper (KiB above 1 MiB, offset 8) valid */
    jz      6f
    mov     8(%ebp), %eax               /* RAM ends at 1 MiB + mem_upper: fill may reach 1 MiB below that */
    shr     $10, %eax
    sub     $2, %eax                    /* (mem_upper MiB + 1) - 2 (FILL_BASE) - 1 */
    jbe     6f
    cmp     %eax, fill_mib
    jbe     6f
    mov     %eax, fill_mib
6:  cmpl    $1, fill_mib                /* at least 1 MiB */
    jae     7f
    movl    $1, fill_mib
7:  mov     fill_mib, %eax
    cmp     %eax, dirty_mib
    jbe     8f
    mov     %eax, dirty_mib
8:  shl     $20, %eax
    add     $FILL_BASE, %eax
    mov     %eax, fill_end
    mov     rate, %eax                  /* paced chunk: rate * CHUNK_MS of dirtying, 16..256 pages */
    test    %eax, %eax
    jz      9f
    imul    $256 * CHUNK_MS, %eax
    xor     %edx, %edx
    mov     $1000, %ecx
    div     %ecx
    cmp     $16, %eax
    jae     14f
    mov     $16, %eax
14: cmp     $256, %eax
    jbe     15f
    mov     $256, %eax
15: mov     %eax, chunk_pages
9:  mov     dirty_mib, %eax
    shl     $20, %eax
    add     $FILL_BASE, %eax
    mov     %eax, dirty_end
    ret

/* find_key: ESI = NUL-terminated cmdline, EDI = NUL-terminated key. Finds the key at the start of a word
   (a key ending in '=' is followed by its value; any other key must end the word or be followed by '=').
   Returns CF clear and EBX = the character after the key, or CF set. Preserves ESI, EDI. */
find_key:
    push    %eax
    push    %ecx
    push    %edx
    mov     %esi, %ecx                  /* ECX walks the cmdline */
    mov     $' ', %ah                   /* previous character: the start is a word start */
1:  mov     (%ecx), %al
    test    %al, %al
    jz      8f
    cmp     $' ', %ah
    je      2f
    cmp     $'\t', %ah
    jne     6f
2:  mov     %ecx, %ebx                  /* compare the key here */
    mov     %edi, %edx
3:  mov     (%edx), %al
    test    %al, %al
    jz      4f
    cmp     (%ebx), %al
    jne     5f
    inc     %ebx
    inc     %edx
    jmp     3b
4:  cmpb    $'=', -1(%edx)              /* whole key matched */
    je      7f
    mov     (%ebx), %al
    test    %al, %al
    jz      7f
    cmp     $' ', %al
    je      7f
    cmp     $'\t', %al
    je      7f
    cmp     $'=', %al
    je      7f
5:  mov     (%ecx), %al
6:  mov     %al, %ah
    inc     %ecx
    jmp     1b
7:  pop     %edx
    pop     %ecx
    pop     %eax
    clc
    ret
8:  pop     %edx
    pop     %ecx
    pop     %eax
    stc
    ret

/* find_number: ESI = cmdline, EDI = "key=". Returns CF clear and EAX = the decimal value after the key
   (clamped to 100000000), or CF set when the key is absent or not followed by a digit. Preserves ESI, EDI. */
find_number:
    push    %ebx
    push    %edx
    call    find_key
    jc      9f
    movzbl  (%ebx), %eax
    sub     $'0', %eax
    cmp     $9, %eax
    ja      8f
    xor     %eax, %eax
1:  movzbl  (%ebx), %edx
    sub     $'0', %edx
    cmp     $9, %edx
    ja      2f
    cmp     $100000000, %eax
    jae     3f
    imul    $10, %eax
    add     %edx, %eax
3:  inc     %ebx
    jmp     1b
2:  cmp     $100000000, %eax
    jbe     4f
    mov     $100000000, %eax
4:  pop     %edx
    pop     %ebx
    clc
    ret
8:  stc
9:  pop     %edx
    pop     %ebx
    ret

/* ---------------------------------------------------------------------------------------------------------
 * Serial output (COM1; QEMU's UART takes a byte whenever it is written)
 * ------------------------------------------------------------------------------------------------------- */

/* putc: AL to COM1. */
putc:
    push    %edx
    mov     $COM1, %dx
    out     %al, %dx
    pop     %edx
    ret

/* puts: ESI = NUL-terminated string. All registers preserved. */
puts:
    push    %eax
    push    %esi
1:  lodsb
    test    %al, %al
    jz      2f
    call    putc
    jmp     1b
2:  pop     %esi
    pop     %eax
    ret

/* putdec: EAX = unsigned number in decimal. All registers preserved. */
putdec:
    pusha
    mov     $10, %ecx
    xor     %edi, %edi
1:  xor     %edx, %edx
    div     %ecx
    push    %edx
    inc     %edi
    test    %eax, %eax
    jnz     1b
2:  pop     %eax
    add     $'0', %al
    call    putc
    dec     %edi
    jnz     2b
    popa
    ret

/* puthex: EAX as 8 hex digits. All registers preserved. */
puthex:
    pusha
    mov     $8, %ecx
    mov     %eax, %edx
1:  rol     $4, %edx
    mov     %edx, %eax
    and     $15, %eax
    mov     hex_digits(%eax), %al
    call    putc
    dec     %ecx
    jnz     1b
    popa
    ret

    .section .data
key_fill:       .asciz "fill="
key_dirty:      .asciz "dirty="
key_rate:       .asciz "rate="
key_pause:      .asciz "pause="
key_verify:     .asciz "verify="
key_corrupt:    .asciz "selftest-corrupt"
key_idle_poll:  .asciz "idle=poll"
msg_filled:     .asciz "memfill: filled "
msg_mib_nl:     .asciz " MiB\n"
msg_tsc:        .asciz "memfill: tsc "
msg_khz_nl:     .asciz " kHz\n"
msg_dirtying:   .asciz "memfill: dirtying "
msg_at:         .asciz " MiB at "
msg_max:        .asciz "max"
msg_mibs_nl:    .asciz " MiB/s\n"
msg_ok:         .asciz "memfill: ok pass="
msg_maxpause:   .asciz " maxpause="
msg_ms_nl:      .asciz " ms\n"
msg_pause:      .asciz "memfill: pause "
msg_fail_paused: .asciz "memfill: FAIL paused "
msg_limit:      .asciz " ms (limit "
msg_ms_close_nl: .asciz " ms)\n"
msg_corrupt:    .asciz "memfill: FAIL corrupt page 0x"
msg_expected:   .asciz " expected 0x"
msg_found:      .asciz " found 0x"
msg_exception:  .asciz "memfill: FAIL exception "
hex_digits:     .ascii "0123456789abcdef"

    .align 8
gdt:            .quad 0
                .quad 0x00CF9A000000FFFF /* CODE_SEL: flat 4 GiB, 32-bit code */
                .quad 0x00CF92000000FFFF /* DATA_SEL: flat 4 GiB data */
gdt_desc:       .word 3 * 8 - 1
                .long gdt
    .align 4
idt_desc:       .word IDT_ENTRIES * 8 - 1
                .long idt

    .align 4
/* settings */
fill_mib:       .long 64
dirty_mib:      .long 0
rate:           .long 0                 /* MiB/s, 0 = max */
pause_limit:    .long 1000              /* ms */
fill_end:       .long 0
dirty_end:      .long 0
/* dirtying and checking */
dirty_cur:      .long FILL_BASE
chunk_pages:    .long CHUNK_PAGES
generation:     .long 1                 /* g of the pass under way */
kold:           .long PATTERN           /* word 0 of page P holds P ^ kold before this pass */
kxor:           .long 1                 /* ... and P ^ kold ^ kxor after it */
passes:         .long 0
verify_cur:     .long FILL_BASE
verify_budget:  .long 0
verify_pages:   .long VERIFY_MIBS * 256  /* per second */
max_verify_count: .long MAX_VERIFY_EVERY
corrupt_budget: .long CORRUPT_FIRST
/* calibration */
cal_n:          .long 0                 /* seconds timed since cal_first; -1 before the first edge */
cal_first:      .long 0
cal_prev:       .long 0
cal_first_interval: .long 0
cal_sample:     .long 0
cal_restarts:   .long 0
tick_hz:        .long 0
ticks_per_ms:   .long 0
noise_ticks:    .long 0
lag_ticks:      .long 0
spin_ticks:     .long 0
stale_ticks:    .long 0
chunk_ticks:    .long 0
/* clock */
now_lo:         .long 0
now_hi:         .long 0
due_lo:         .long 0
due_hi:         .long 0
ref_lo:         .long 0
ref_hi:         .long 0
ref_sod:        .long 0
last_sod:       .long 0
alive_seconds:  .long 0
anchor_lo:      .long 0
anchor_hi:      .long 0
anchor_sod:     .long 0
anchor_target:  .long 4
pend_lo:        .long 0
pend_hi:        .long 0
window_edges:   .long 0
maxpause:       .long 0
pause_lines:    .long PAUSE_LINES_PER_S
edge_lo:        .long 0
edge_hi:        .long 0
irq_return:     .long 0
cal_sec:        .byte 0
rtc_sec:        .byte 0
rtc_format:     .byte 0
sharp:          .byte 0
ref_valid:      .byte 0
window_open:    .byte 0
anchor_valid:   .byte 0
corrupt_pending: .byte 0
idle_poll:      .byte 0

    .section .bss
    .align 16
idt:            .space IDT_ENTRIES * 8
    .space 4096
stack_top:
