/* Moving datagrams: agent -> kernel after the policy, kernel -> agent as received. */
#include "syscall.h"
#include "bridge.h"

long nl_send(int sock, const u8 *d, u32 len)
{
	struct sockaddr_nl kernel = { AF_NETLINK, 0, 0, 0 };
	struct iovec iov = { (void *)d, len };
	struct msghdr mh = { &kernel, sizeof kernel, &iov, 1, 0, 0, 0 };
	long r;
	do r = sys_call3(NR_sendmsg, sock, &mh, 0);
	while (r == -EINTR);
	return r;
}

/* Relayed controller replies may carry the id of a family the agent asked for. */
static void learn_families(struct bridge *b, const u8 *d, u32 len)
{
	u32 off = 0;
	while (len - off >= NLMSG_HDRLEN) {
		u32 mlen = get_u32(d + off);
		if (mlen < NLMSG_HDRLEN || mlen > len - off) return;
		if (get_u16(d + off + 4) == GENL_ID_CTRL) family_learn(b, d + off, mlen);
		off += align4(mlen);
		if (off > len) return;
	}
}

/* The record header goes in the 8 bytes in front of the datagram: one write per datagram. */
static u8 rbuf[REC_HDRLEN + RECV_BUF] __attribute__((aligned(8)));

void relay_from_kernel(struct bridge *b)
{
	struct iovec iov = { rbuf + REC_HDRLEN, RECV_BUF };
	struct sockaddr_nl sa;
	struct msghdr mh = { &sa, sizeof sa, &iov, 1, 0, 0, 0 };
	long r = sys_call3(NR_recvmsg, b->sock, &mh, MSG_TRUNC);
	if (r == -EINTR || r == -EAGAIN) return;
	if (r == -ENOBUFS) {
		/* the socket overran (a burst of multicasts): say so, the agent re-reads its state */
		out_error(ENOBUFS, 0, "netlink receive buffer overrun: messages were lost", 0, 0);
		return;
	}
	if (sys_failed(r)) {
		out_error((s32)-r, 1, "recvmsg on the netlink socket failed", 0, 0);
		bridge_exit(EXIT_SOCKET);
	}
	if ((u32)r > RECV_BUF || (mh.msg_flags & MSG_TRUNC)) {
		out_error(EMSGSIZE, 0, "kernel datagram larger than the receive buffer dropped; bytes:", r, 1);
		return;
	}
	if (sa.nl_pid != 0) {
		/* only the kernel speaks to us; another process writing here is dropped */
		out_error(EPERM, 0, "dropped a datagram not sent by the kernel; portid:", (long)sa.nl_pid, 1);
		return;
	}
	if (b->protocol == NETLINK_GENERIC) learn_families(b, rbuf + REC_HDRLEN, (u32)r);
	put_record_header(rbuf, (u32)r, REC_NL);
	out_write(rbuf, REC_HDRLEN + (usize)r);
}
