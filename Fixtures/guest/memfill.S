/*
 * memfill: a tiny multiboot (v1) guest for the lab. QEMU loads it with <kernel>; it runs in 32-bit
 * protected mode with paging and interrupts off, under KVM (reliable under migration on this machine) or TCG.
 *
 * Kernel command line (multiboot cmdline, libvirt <cmdline>):
 *   fill=N    fill N MiB from 2 MiB up with a non-zero, page-dependent pattern (default 64), so a
 *             migration has real data to send (QEMU sends zero pages as a flag only);
 *   dirty=N   then rewrite N MiB of that area over and over, forever (default 0: halt after filling),
 *             to make the guest dirty memory as a busy workload does.
 * It prints "memfill: filled N MiB" on COM1 when the fill is done.
 */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000000
    .set COM1, 0x3F8

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
    mov     $stack_top, %esp
    /* EBX points at the multiboot information; bit 2 of its flags says cmdline (offset 16) is valid. */
    mov     $64, %eax
    mov     %eax, fill_mib
    movl    $0, dirty_mib
    testl   $4, (%ebx)
    jz      1f
    mov     16(%ebx), %esi
    push    %esi
    mov     $key_fill, %edi
    call    find_number
    jc      2f
    mov     %eax, fill_mib
2:  pop     %esi
    mov     $key_dirty, %edi
    call    find_number
    jc      1f
    mov     %eax, dirty_mib
1:
    /* Fill: every word of the page at address P holds P ^ 0x5A5A5A5A. One `rep stosl` per page: under a
       paravirtual KVM that emulates guest instructions one at a time, a word-by-word loop is far too slow. */
    mov     fill_mib, %ebx
    shl     $8, %ebx                    /* MiB -> 4 KiB pages */
    mov     $0x200000, %edi
3:  mov     %edi, %eax
    xor     $0x5A5A5A5A, %eax
    mov     $1024, %ecx
    rep stosl
    dec     %ebx
    jnz     3b

    mov     $msg_filled, %esi
    call    puts
    mov     fill_mib, %eax
    call    putdec
    mov     $msg_mib, %esi
    call    puts

    mov     dirty_mib, %eax
    test    %eax, %eax
    jz      halt
    mov     fill_mib, %edx
    cmp     %edx, %eax
    jbe     4f
    mov     %edx, %eax
4:  mov     %eax, dirty_mib
    xor     %ebx, %ebx                  /* generation counter */
dirty_loop:
    inc     %ebx
    mov     dirty_mib, %ecx
    shl     $10, %ecx                   /* MiB -> 4 KiB pages */
    mov     $0x200000, %edi
5:  mov     %ebx, (%edi)                /* one word per page dirties the page */
    add     $4096, %edi
    dec     %ecx
    jnz     5b
    jmp     dirty_loop

halt:
    hlt
    jmp     halt

/* find_number: ESI = NUL-terminated cmdline, EDI = "key=" (NUL-terminated).
   Returns CF clear and EAX = decimal after the key, or CF set when the key is absent. */
find_number:
    push    %ebx
6:  cmpb    $0, (%esi)
    je      9f
    mov     %esi, %ebx
    mov     %edi, %edx
7:  mov     (%edx), %al
    test    %al, %al
    jz      8f                          /* whole key matched */
    cmp     (%ebx), %al
    jne     10f
    inc     %ebx
    inc     %edx
    jmp     7b
10: inc     %esi
    jmp     6b
8:  xor     %eax, %eax
11: movzbl  (%ebx), %edx
    sub     $'0', %edx
    cmp     $9, %edx
    ja      12f
    imul    $10, %eax
    add     %edx, %eax
    inc     %ebx
    jmp     11b
12: pop     %ebx
    clc
    ret
9:  pop     %ebx
    stc
    ret

/* puts: ESI = NUL-terminated string to COM1. */
puts:
    lodsb
    test    %al, %al
    jz      13f
    mov     $COM1, %dx
    out     %al, %dx
    jmp     puts
13: ret

/* putdec: EAX = unsigned number to COM1 in decimal. */
putdec:
    mov     $10, %ecx
    xor     %edi, %edi
14: xor     %edx, %edx
    div     %ecx
    push    %edx
    inc     %edi
    test    %eax, %eax
    jnz     14b
15: pop     %eax
    add     $'0', %al
    mov     $COM1, %dx
    out     %al, %dx
    dec     %edi
    jnz     15b
    ret

    .section .data
key_fill:   .asciz "fill="
key_dirty:  .asciz "dirty="
msg_filled: .asciz "memfill: filled "
msg_mib:    .asciz " MiB\n"
    .align 4
fill_mib:   .long 0
dirty_mib:  .long 0

    .section .bss
    .align 16
    .space 4096
stack_top:
