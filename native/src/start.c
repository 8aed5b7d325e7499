/* Process entry without libc: each architecture's _start hands the initial stack pointer
 * (argc, argv...) to bridge_main. */
#include "bridge.h"

int bridge_main(int argc, char **argv);
__attribute__((noreturn, used)) void bridge_start(long *sp);

#if defined(__x86_64__)
__asm__(".text\n.globl _start\n.type _start,@function\n_start:\n"
	"\txor %ebp,%ebp\n\tmov %rsp,%rdi\n\tand $-16,%rsp\n\tcall bridge_start\n\thlt\n");
#elif defined(__i386__)
__asm__(".text\n.globl _start\n.type _start,@function\n_start:\n"
	"\txor %ebp,%ebp\n\tmov %esp,%eax\n\tand $-16,%esp\n\tsub $12,%esp\n"
	"\tpush %eax\n\tcall bridge_start\n\thlt\n");
#elif defined(__arm__)
__asm__(".text\n.globl _start\n.type _start,%function\n_start:\n"
	"\tmov fp, #0\n\tmov lr, #0\n\tmov r0, sp\n\tbic sp, sp, #15\n\tbl bridge_start\n");
#elif defined(__aarch64__)
__asm__(".text\n.globl _start\n.type _start,%function\n_start:\n"
	"\tmov x29, #0\n\tmov x30, #0\n\tmov x0, sp\n\tand sp, x0, #-16\n\tbl bridge_start\n");
#elif defined(__mips__)
/* Non-PIC (-mno-abicalls), so no $t9/$gp dance for calls; $gp is still set to _gp in case the
 * compiler used gp-relative data. o32 wants an 8-byte aligned $sp with a 16-byte argument
 * save area reserved by the caller. */
__asm__(".text\n.globl _start\n.type _start,@function\n.set push\n.set noreorder\n_start:\n"
	"\tmove $fp, $0\n\tmove $ra, $0\n\tlui $gp, %hi(_gp)\n\taddiu $gp, $gp, %lo(_gp)\n"
	"\tmove $a0, $sp\n\tli $t0, -8\n\tand $sp, $sp, $t0\n\taddiu $sp, $sp, -16\n"
	"\tjal bridge_start\n\tnop\n\tbreak\n.set pop\n");
#endif

void bridge_start(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	bridge_exit(bridge_main(argc, argv));
}
