/* Raw Linux system calls for the four targets, without libc.
 * Numbers are the kernel's (x86: arch/x86/entry/syscalls/syscall_{32,64}.tbl; arm: the EABI
 * table; aarch64: asm-generic/unistd.h; mips o32: arch/mips/kernel/syscalls/syscall_o32.tbl, 4000 + n).
 * Only five arguments are ever needed, so i386 never has to give up %ebp. */
#ifndef NLBRIDGE_SYSCALL_H
#define NLBRIDGE_SYSCALL_H

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the bridge's framing is little-endian host order: big-endian targets are not supported"
#endif

#if defined(__x86_64__)
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_socket 41
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_bind 49
#define NR_getsockname 51
#define NR_setsockopt 54
#define NR_exit_group 231
#define NR_ppoll 271

static inline long sys_call5(long n, long a, long b, long c, long d, long e)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

#elif defined(__i386__)
/* Direct socket calls exist on i386 since Linux 4.3, so no socketcall multiplexer. */
#define NR_read 3
#define NR_write 4
#define NR_close 6
#define NR_exit_group 252
#define NR_ppoll 309
#define NR_socket 359
#define NR_bind 361
#define NR_setsockopt 366
#define NR_getsockname 367
#define NR_sendmsg 370
#define NR_recvmsg 372

static inline long sys_call5(long n, long a, long b, long c, long d, long e)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory");
	return ret;
}

#elif defined(__arm__)
#if !defined(__ARM_EABI__)
#error "only the ARM EABI syscall convention is supported"
#endif
#define NR_read 3
#define NR_write 4
#define NR_close 6
#define NR_exit_group 248
#define NR_socket 281
#define NR_bind 282
#define NR_getsockname 286
#define NR_setsockopt 294
#define NR_sendmsg 296
#define NR_recvmsg 297
#define NR_ppoll 336

static inline long sys_call5(long n, long a, long b, long c, long d, long e)
{
	register long r7 __asm__("r7") = n;
	register long r0 __asm__("r0") = a;
	register long r1 __asm__("r1") = b;
	register long r2 __asm__("r2") = c;
	register long r3 __asm__("r3") = d;
	register long r4 __asm__("r4") = e;
	__asm__ volatile("svc #0"
			 : "+r"(r0)
			 : "r"(r7), "r"(r1), "r"(r2), "r"(r3), "r"(r4)
			 : "memory");
	return r0;
}

#elif defined(__aarch64__)
#define NR_close 57
#define NR_read 63
#define NR_write 64
#define NR_ppoll 73
#define NR_exit_group 94
#define NR_socket 198
#define NR_bind 200
#define NR_getsockname 204
#define NR_setsockopt 208
#define NR_sendmsg 211
#define NR_recvmsg 212

static inline long sys_call5(long n, long a, long b, long c, long d, long e)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4)
			 : "memory");
	return x0;
}

#elif defined(__mips__)
#if _MIPS_SIM != _ABIO32 || __mips_isa_rev < 1
#error "only the MIPS32 o32 syscall convention is supported"
#endif
#define NR_read 4003
#define NR_write 4004
#define NR_close 4006
#define NR_bind 4169
#define NR_getsockname 4172
#define NR_recvmsg 4177
#define NR_sendmsg 4179
#define NR_setsockopt 4181
#define NR_socket 4183
#define NR_exit_group 4246
#define NR_ppoll 4302

/* o32: number in $v0, arguments in $a0-$a3, the fifth at 16($sp) of the caller's frame (the
 * kernel reads it from the user stack, so a 32-byte frame is pushed for the call). On return
 * $a3 != 0 means $v0 holds a positive errno; it is negated so callers see -errno as on the
 * other targets. */
static inline long sys_call5(long n, long a, long b, long c, long d, long e)
{
	register long v0 __asm__("$2");
	register long a0 __asm__("$4") = a;
	register long a1 __asm__("$5") = b;
	register long a2 __asm__("$6") = c;
	register long a3 __asm__("$7") = d;
	__asm__ volatile("subu $sp, $sp, 32\n\t"
			 "sw %6, 16($sp)\n\t"
			 "addu $2, $0, %2\n\t"
			 "syscall\n\t"
			 "addu $sp, $sp, 32"
			 : "=&r"(v0), "+r"(a3)
			 : "r"(n), "r"(a0), "r"(a1), "r"(a2), "r"(e)
			 : "$1", "$3", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25",
			   "hi", "lo", "memory");
	return a3 ? -v0 : v0;
}

#else
#error "unsupported architecture"
#endif

#define sys_call3(n, a, b, c) sys_call5((n), (long)(a), (long)(b), (long)(c), 0, 0)

/* A raw syscall returns -errno in [-4095, -1] on failure. */
static inline int sys_failed(long r) { return r < 0 && r > -4096; }

#endif
