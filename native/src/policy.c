/* What the agent may send. A datagram goes to the kernel only if it is a sequence of complete
 * netlink requests that all pass; otherwise none of it is sent (native/README.md, "Policy"). */
#include "bridge.h"

static int refuse(struct verdict *v, s32 err, const char *why)
{
	v->err = err;
	v->why = why;
	return err;
}

static int refuse_num(struct verdict *v, s32 err, const char *why, u32 num)
{
	v->why_num = num;
	v->why_has_num = 1;
	return refuse(v, err, why);
}

static int generic_type_allowed(const struct bridge *b, u16 type)
{
	for (int i = 0; i < b->nfamilies; i++)
		if (b->fam[i].id && b->fam[i].id == type) return 1;
	return 0;
}

static int check_generic(const struct bridge *b, const u8 *m, u32 mlen, u16 type, u16 flags,
			 struct verdict *v)
{
	if (mlen < NLMSG_HDRLEN + GENL_HDRLEN)
		return refuse(v, EINVAL, "generic netlink message shorter than its genl header");
	if (type == GENL_ID_CTRL) {
		if (m[NLMSG_HDRLEN] != CTRL_CMD_GETFAMILY)
			return refuse_num(v, EPERM, "controller command not allowed:", m[NLMSG_HDRLEN]);
		if ((flags & NLM_F_DUMP) == NLM_F_DUMP)
			return refuse(v, EPERM, "controller dumps are not allowed");
		if (!family_getfamily_allowed(b, m + NLMSG_HDRLEN + GENL_HDRLEN,
					      mlen - NLMSG_HDRLEN - GENL_HDRLEN))
			return refuse(v, EPERM, "GETFAMILY for a family the bridge was not started for");
		return 0;
	}
	if (!generic_type_allowed(b, type))
		return refuse_num(v, EPERM, "message type is not an allowed family:", type);
	return 0;
}

static int check_route(const u8 *m, u32 mlen, u16 type, struct verdict *v)
{
	(void)m;
	if (type < RTM_NEWLINK || type > RTM_SETLINK)
		return refuse_num(v, EPERM, "rtnetlink type not allowed (only link messages):", type);
	if (mlen < NLMSG_HDRLEN + IFINFOMSG_LEN)
		return refuse(v, EINVAL, "link message shorter than its ifinfomsg");
	return 0;
}

int policy_check(const struct bridge *b, const u8 *d, u32 len, struct verdict *v)
{
	u32 off = 0;
	v->err = 0;
	v->nhdrs = 0;
	v->why = 0;
	v->why_has_num = 0;
	if (len < NLMSG_HDRLEN) return refuse(v, EINVAL, "datagram shorter than a netlink header");

	/* First pass: structure, and collect the headers so a refusal can name every request. */
	while (off < len) {
		if (len - off < NLMSG_HDRLEN) return refuse(v, EINVAL, "trailing bytes after the last message");
		u32 mlen = get_u32(d + off);
		if (v->nhdrs < MAX_REFUSED_HDRS) memcpy(v->hdrs[v->nhdrs++], d + off, NLMSG_HDRLEN);
		if (mlen < NLMSG_HDRLEN || mlen > len - off)
			return refuse_num(v, EINVAL, "nlmsg_len does not fit the datagram:", mlen);
		off += align4(mlen);
		if (off > len) off = len; /* the kernel accepts an unpadded last message */
	}

	for (off = 0; off < len;) {
		const u8 *m = d + off;
		u32 mlen = get_u32(m);
		u16 type = get_u16(m + 4), flags = get_u16(m + 6);
		if (!(flags & NLM_F_REQUEST)) return refuse(v, EINVAL, "message without NLM_F_REQUEST");
		if (type < NLMSG_MIN_TYPE) return refuse_num(v, EPERM, "netlink control type not allowed:", type);
		int e = b->protocol == NETLINK_GENERIC ? check_generic(b, m, mlen, type, flags, v)
						       : check_route(m, mlen, type, v);
		if (e) return e;
		off += align4(mlen);
		if (off > len) off = len;
	}
	return 0;
}
