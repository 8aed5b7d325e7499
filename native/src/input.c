/* Reading records from the agent on stdin (fd 0). A record is taken whole into a fixed
 * buffer before it is looked at; nothing is parsed beyond the bytes actually read. */
#include "syscall.h"
#include "bridge.h"

static u8 inbuf[REC_HDRLEN + MAX_SEND] __attribute__((aligned(8)));
static u32 have;     /* bytes of the current record in inbuf */
static u32 need;     /* payload length of the current record, once its header is in */
static int header_ok; /* the header of the current record has been checked */
static u32 discard;  /* payload bytes of an oversized record still to skip */

static void send_result(u16 kind, u32 group, s32 err)
{
	u8 rec[12];
	put_u16(rec, kind);
	put_u16(rec + 2, 0);
	put_u32(rec + 4, group);
	put_u32(rec + 8, (u32)err);
	out_record(REC_RESULT, rec, sizeof rec);
}

/* REFUSED: s32 errno, u32 nheaders, nheaders x nlmsghdr (16 bytes), then the reason text. */
static void send_refused(const struct verdict *v)
{
	static u8 rec[8 + MAX_REFUSED_HDRS * NLMSG_HDRLEN + 200];
	u32 n = 8;
	put_u32(rec, (u32)v->err);
	put_u32(rec + 4, v->nhdrs);
	for (u32 i = 0; i < v->nhdrs; i++, n += NLMSG_HDRLEN) memcpy(rec + n, v->hdrs[i], NLMSG_HDRLEN);
	const char *why = v->why ? v->why : "refused";
	for (int i = 0; why[i] && i < 150; i++) rec[n++] = (u8)why[i];
	if (v->why_has_num) {
		rec[n++] = ' ';
		n += fmt_u32((char *)rec + n, v->why_num);
	}
	out_record(REC_REFUSED, rec, n);
}

static void handle_nl(struct bridge *b, const u8 *d, u32 len)
{
	static struct verdict v;
	if (policy_check(b, d, len, &v)) {
		send_refused(&v);
		return;
	}
	long r = nl_send(b->sock, d, len);
	if (sys_failed(r)) {
		v.err = (s32)-r;
		v.why = "sendmsg to the kernel failed";
		v.why_has_num = 0;
		send_refused(&v);
	}
}

static void handle_membership(struct bridge *b, u16 kind, const u8 *p, u32 len)
{
	if (len != 4) {
		out_error(EINVAL, 0, "JOIN/LEAVE payload must be 4 bytes; got", (long)len, 1);
		return;
	}
	u32 group = get_u32(p);
	if (!family_group_allowed(b, group)) {
		send_result(kind, group, EPERM);
		return;
	}
	long r = sys_call5(NR_setsockopt, b->sock, SOL_NETLINK,
			   kind == REC_JOIN ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP, (long)&group, 4);
	send_result(kind, group, sys_failed(r) ? (s32)-r : 0);
}

static void dispatch(struct bridge *b, u16 kind, const u8 *p, u32 len)
{
	if (kind == REC_NL) handle_nl(b, p, len);
	else if (kind == REC_JOIN || kind == REC_LEAVE) handle_membership(b, kind, p, len);
	else out_error(EINVAL, 0, "unknown record kind", kind, 1);
}

int input_pump(struct bridge *b)
{
	long r;
	if (discard) {
		r = sys_call3(NR_read, 0, inbuf, discard < sizeof inbuf ? discard : sizeof inbuf);
	} else {
		u32 want = header_ok ? REC_HDRLEN + need : REC_HDRLEN;
		r = sys_call3(NR_read, 0, inbuf + have, want - have);
	}
	if (r == -EINTR || r == -EAGAIN) return 1;
	if (sys_failed(r)) {
		out_error((s32)-r, 1, "read from the agent failed", 0, 0);
		bridge_exit(EXIT_STREAM);
	}
	if (r == 0) {
		if (have || discard) {
			err_text("x0tta6bl4-nlbridge: stdin closed in the middle of a record\n");
		}
		return 0;
	}
	if (discard) {
		discard -= (u32)r;
		return 1;
	}
	have += (u32)r;
	if (!header_ok) {
		if (have < REC_HDRLEN) return 1;
		need = get_u32(inbuf);
		u16 reserved = get_u16(inbuf + 6);
		if (reserved != 0) {
			/* not our framing: nothing after this can be trusted to line up */
			out_error(EPROTO, 1, "record header with nonzero reserved field", 0, 0);
			bridge_exit(EXIT_STREAM);
		}
		if (need > MAX_SEND) {
			if (need > MAX_DISCARD) {
				out_error(EMSGSIZE, 1, "record length beyond any sane size; giving up:", (long)need, 1);
				bridge_exit(EXIT_STREAM);
			}
			out_error(EMSGSIZE, 0, "record larger than 16384 bytes refused; bytes:", (long)need, 1);
			discard = need;
			have = 0;
			return 1;
		}
		header_ok = 1;
	}
	if (have < REC_HDRLEN + need) return 1;
	u16 kind = get_u16(inbuf + 4);
	u32 len = need;
	have = 0;
	header_ok = 0;
	need = 0;
	dispatch(b, kind, inbuf + REC_HDRLEN, len);
	return 1;
}
