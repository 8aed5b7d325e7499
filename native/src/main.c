/* x0tta6bl4-nlbridge: opens one netlink socket and relays whole datagrams between it and the
 * agent over stdin/stdout (see native/README.md). Usage:
 *   x0tta6bl4-nlbridge generic FAMILY...   (1 to 4 generic netlink family names)
 *   x0tta6bl4-nlbridge route */
#include "syscall.h"
#include "bridge.h"

static struct bridge b;

static int usage(const char *why)
{
	err_text("x0tta6bl4-nlbridge: ");
	err_text(why);
	err_text("\nusage: x0tta6bl4-nlbridge generic FAMILY... | x0tta6bl4-nlbridge route\n");
	return EXIT_USAGE;
}

static int parse_args(int argc, char **argv)
{
	if (argc < 2) return usage("missing protocol");
	if (str_eq_n(argv[1], "route", 6)) {
		if (argc != 2) return usage("route takes no further arguments");
		b.protocol = NETLINK_ROUTE;
		return 0;
	}
	if (!str_eq_n(argv[1], "generic", 8)) return usage("protocol must be generic or route");
	b.protocol = NETLINK_GENERIC;
	if (argc < 3) return usage("generic needs at least one family name");
	if (argc - 2 > MAX_FAMILIES) return usage("at most 4 families");
	for (int i = 2; i < argc; i++) {
		if (!family_name_ok(argv[i])) return usage("family names are 1-15 of [A-Za-z0-9_.-]");
		struct family *f = &b.fam[b.nfamilies++];
		memcpy(f->name, argv[i], (usize)str_len(argv[i]) + 1);
	}
	return 0;
}

static int open_socket(void)
{
	const char *what = b.protocol == NETLINK_GENERIC ? "socket(AF_NETLINK, NETLINK_GENERIC) failed"
							  : "socket(AF_NETLINK, NETLINK_ROUTE) failed";
	long fd = sys_call3(NR_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, b.protocol);
	if (sys_failed(fd)) {
		out_error((s32)-fd, 1, what, 0, 0);
		return EXIT_SOCKET;
	}
	b.sock = (int)fd;
	struct sockaddr_nl sa = { AF_NETLINK, 0, 0, 0 };
	long r = sys_call3(NR_bind, b.sock, &sa, sizeof sa);
	if (sys_failed(r)) {
		out_error((s32)-r, 1, "bind on the netlink socket failed", 0, 0);
		return EXIT_SOCKET;
	}
	int salen = sizeof sa;
	r = sys_call3(NR_getsockname, b.sock, &sa, &salen);
	if (sys_failed(r)) {
		out_error((s32)-r, 1, "getsockname on the netlink socket failed", 0, 0);
		return EXIT_SOCKET;
	}
	b.portid = sa.nl_pid;
	/* Best effort: extended acks carry the kernel's error text; capped acks keep error
	 * replies short. Kernels without them still work. A bigger buffer rides out bursts. */
	int one = 1, rcvbuf = 262144;
	sys_call5(NR_setsockopt, b.sock, SOL_NETLINK, NETLINK_EXT_ACK, (long)&one, sizeof one);
	sys_call5(NR_setsockopt, b.sock, SOL_NETLINK, NETLINK_CAP_ACK, (long)&one, sizeof one);
	sys_call5(NR_setsockopt, b.sock, SOL_SOCKET, SO_RCVBUF, (long)&rcvbuf, sizeof rcvbuf);
	return 0;
}

int bridge_main(int argc, char **argv)
{
	int e = parse_args(argc, argv);
	if (e) return e;
	e = open_socket();
	if (e) return e;
	for (int i = 0; i < b.nfamilies; i++) family_resolve(&b, &b.fam[i], 0x7fff0000u + (u32)i);
	send_ready(&b);

	for (;;) {
		struct pollfd p[2] = { { 0, POLLIN, 0 }, { b.sock, POLLIN, 0 } };
		long r = sys_call5(NR_ppoll, (long)p, 2, 0, 0, 8);
		if (r == -EINTR) continue;
		if (sys_failed(r)) {
			out_error((s32)-r, 1, "ppoll failed", 0, 0);
			return EXIT_SOCKET;
		}
		if (p[1].revents & (POLLIN | POLLERR)) relay_from_kernel(&b);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (!input_pump(&b)) return 0;
		}
	}
}
