/* Generic netlink family resolution: the bridge asks the controller itself at start-up, and
 * learns from the controller replies it relays, so that a family whose module is loaded later
 * (batman-adv) becomes usable without a restart. Only families named on the command line are
 * ever allowed through. */
#include "syscall.h"
#include "bridge.h"

int family_name_ok(const char *s)
{
	int n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '_' || c == '-' || c == '.';
		if (!ok) return 0;
	}
	return n > 0 && n < GENL_NAMSIZ;
}

static void copy_name(char *dst, const u8 *src, u32 max)
{
	u32 i = 0;
	for (; i + 1 < GENL_NAMSIZ && i < max && src[i]; i++) dst[i] = (char)src[i];
	for (; i < GENL_NAMSIZ; i++) dst[i] = 0;
}

/* Walk attributes in [p, p+len): calls back with (type, payload, payload length). Stops at the
 * first attribute that does not fit, never reading past len. */
typedef void (*attr_fn)(void *ctx, u16 type, const u8 *val, u32 vlen);
static void walk_attrs(const u8 *p, u32 len, attr_fn fn, void *ctx)
{
	u32 off = 0;
	while (len - off >= 4) {
		u16 alen = get_u16(p + off);
		u16 type = get_u16(p + off + 2) & NLA_TYPE_MASK;
		if (alen < 4 || alen > len - off) return;
		fn(ctx, type, p + off + 4, alen - 4u);
		off += align4(alen);
		if (off > len) return;
	}
}

struct newfamily {
	char name[GENL_NAMSIZ];
	int has_name;
	u16 id;
	u16 ngroups;
	struct mcast_group groups[MAX_GROUPS];
	struct mcast_group cur;
	int cur_has_id, cur_has_name;
};

static void grp_attr(void *ctx, u16 type, const u8 *val, u32 vlen)
{
	struct newfamily *nf = ctx;
	if (type == CTRL_ATTR_MCAST_GRP_ID && vlen >= 4) {
		nf->cur.id = get_u32(val);
		nf->cur_has_id = 1;
	} else if (type == CTRL_ATTR_MCAST_GRP_NAME) {
		copy_name(nf->cur.name, val, vlen);
		nf->cur_has_name = 1;
	}
}

static void grp_list_attr(void *ctx, u16 type, const u8 *val, u32 vlen)
{
	struct newfamily *nf = ctx;
	(void)type; /* each entry is nested under its index */
	nf->cur_has_id = nf->cur_has_name = 0;
	walk_attrs(val, vlen, grp_attr, nf);
	if (nf->cur_has_id && nf->cur_has_name && nf->ngroups < MAX_GROUPS)
		nf->groups[nf->ngroups++] = nf->cur;
}

static void family_attr(void *ctx, u16 type, const u8 *val, u32 vlen)
{
	struct newfamily *nf = ctx;
	if (type == CTRL_ATTR_FAMILY_ID && vlen >= 2) nf->id = get_u16(val);
	else if (type == CTRL_ATTR_FAMILY_NAME) {
		copy_name(nf->name, val, vlen);
		nf->has_name = 1;
	} else if (type == CTRL_ATTR_MCAST_GROUPS)
		walk_attrs(val, vlen, grp_list_attr, nf);
}

static struct family *find_family(struct bridge *b, const char *name)
{
	for (int i = 0; i < b->nfamilies; i++)
		if (str_eq_n(b->fam[i].name, name, GENL_NAMSIZ)) return &b->fam[i];
	return 0;
}

/* msg: one complete netlink message of type GENL_ID_CTRL, len bytes. */
void family_learn(struct bridge *b, const u8 *msg, u32 len)
{
	static struct newfamily nf;
	if (len < NLMSG_HDRLEN + GENL_HDRLEN || msg[NLMSG_HDRLEN] != CTRL_CMD_NEWFAMILY) return;
	memset(&nf, 0, sizeof nf);
	walk_attrs(msg + NLMSG_HDRLEN + GENL_HDRLEN, len - NLMSG_HDRLEN - GENL_HDRLEN, family_attr, &nf);
	if (!nf.has_name || !nf.id) return;
	struct family *f = find_family(b, nf.name);
	if (!f) return;
	f->id = nf.id;
	f->err = 0;
	f->ngroups = nf.ngroups;
	for (u32 i = 0; i < nf.ngroups; i++) f->groups[i] = nf.groups[i];
}

struct getfamily_check {
	const struct bridge *b;
	int name_seen, name_ok, id_seen, id_ok;
};

static void getfamily_attr(void *ctx, u16 type, const u8 *val, u32 vlen)
{
	struct getfamily_check *c = ctx;
	if (type == CTRL_ATTR_FAMILY_NAME) {
		u32 nl = 0;
		c->name_seen = 1;
		while (nl < vlen && val[nl]) nl++;
		if (nl == vlen || nl >= GENL_NAMSIZ) return; /* unterminated or too long */
		for (int i = 0; i < c->b->nfamilies; i++)
			if ((u32)str_len(c->b->fam[i].name) == nl && !memcmp(c->b->fam[i].name, val, nl))
				c->name_ok = 1;
	} else if (type == CTRL_ATTR_FAMILY_ID) {
		c->id_seen = 1;
		if (vlen < 2) return;
		u16 id = get_u16(val);
		for (int i = 0; i < c->b->nfamilies; i++)
			if (c->b->fam[i].id && c->b->fam[i].id == id) c->id_ok = 1;
	}
}

/* A GETFAMILY request may only name (or give the id of) a family the agent asked for; every
 * selector present must pass, since the kernel prefers the id when both are given. */
int family_getfamily_allowed(const struct bridge *b, const u8 *attrs, u32 len)
{
	struct getfamily_check c = { b, 0, 0, 0, 0 };
	walk_attrs(attrs, len, getfamily_attr, &c);
	if (!c.name_seen && !c.id_seen) return 0;
	return (!c.name_seen || c.name_ok) && (!c.id_seen || c.id_ok);
}

int family_group_allowed(const struct bridge *b, u32 group)
{
	if (b->protocol == NETLINK_ROUTE) return group == RTNLGRP_LINK;
	for (int i = 0; i < b->nfamilies; i++)
		for (u32 g = 0; g < b->fam[i].ngroups; g++)
			if (b->fam[i].id && b->fam[i].groups[g].id == group) return 1;
	return 0;
}

/* Ask the controller for one family and wait for its answer. Generic netlink handles the
 * request in the sender's context, so the reply is queued before sendmsg returns and a plain
 * blocking receive cannot hang on a missing module: that is an NLMSG_ERROR -ENOENT. */
int family_resolve(struct bridge *b, struct family *f, u32 seq)
{
	static u8 req[NLMSG_HDRLEN + GENL_HDRLEN + 4 + GENL_NAMSIZ];
	static u8 rbuf[8192] __attribute__((aligned(8)));
	u32 nlen = (u32)str_len(f->name) + 1;
	u32 alen = 4 + nlen;
	u32 total = NLMSG_HDRLEN + GENL_HDRLEN + align4(alen);

	memset(req, 0, sizeof req);
	put_u32(req, total);
	put_u16(req + 4, GENL_ID_CTRL);
	put_u16(req + 6, NLM_F_REQUEST);
	put_u32(req + 8, seq);
	req[16] = CTRL_CMD_GETFAMILY;
	req[17] = 1;
	put_u16(req + 20, (u16)alen);
	put_u16(req + 22, CTRL_ATTR_FAMILY_NAME);
	memcpy(req + 24, f->name, nlen);

	long r = nl_send(b->sock, req, total);
	if (sys_failed(r)) return f->err = (s32)-r;

	for (int tries = 0; tries < 16; tries++) {
		struct iovec iov = { rbuf, sizeof rbuf };
		struct sockaddr_nl sa;
		struct msghdr mh = { &sa, sizeof sa, &iov, 1, 0, 0, 0 };
		r = sys_call3(NR_recvmsg, b->sock, &mh, 0);
		if (r == -EINTR) continue;
		if (sys_failed(r)) return f->err = (s32)-r;
		u32 len = (u32)r, off = 0;
		if (len > sizeof rbuf) len = sizeof rbuf;
		while (len - off >= NLMSG_HDRLEN) {
			u32 mlen = get_u32(rbuf + off);
			if (mlen < NLMSG_HDRLEN || mlen > len - off) break;
			u16 type = get_u16(rbuf + off + 4);
			if (get_u32(rbuf + off + 8) == seq && sa.nl_pid == 0) {
				if (type == NLMSG_ERROR && mlen >= NLMSG_HDRLEN + 4) {
					s32 e = (s32)get_u32(rbuf + off + NLMSG_HDRLEN);
					return f->err = e < 0 ? -e : EPROTO;
				}
				if (type == GENL_ID_CTRL) {
					family_learn(b, rbuf + off, mlen);
					if (f->id) return 0;
					return f->err = EPROTO;
				}
			}
			off += align4(mlen);
			if (off > len) break;
		}
	}
	return f->err = EPROTO;
}

/* READY: u32 version, u32 portid, u32 protocol, u32 nfamilies, then per family:
 * name[16], s32 errno, u16 id, u16 ngroups, ngroups x (u32 id, name[16]). */
void send_ready(const struct bridge *b)
{
	static u8 rec[16 + MAX_FAMILIES * (24 + MAX_GROUPS * 20)];
	u32 n = 16;
	put_u32(rec, PROTOCOL_VERSION);
	put_u32(rec + 4, b->portid);
	put_u32(rec + 8, (u32)b->protocol);
	put_u32(rec + 12, (u32)b->nfamilies);
	for (int i = 0; i < b->nfamilies; i++) {
		const struct family *f = &b->fam[i];
		memcpy(rec + n, f->name, GENL_NAMSIZ);
		put_u32(rec + n + 16, (u32)f->err);
		put_u16(rec + n + 20, f->id);
		put_u16(rec + n + 22, f->ngroups);
		n += 24;
		for (u32 g = 0; g < f->ngroups; g++) {
			put_u32(rec + n, f->groups[g].id);
			memcpy(rec + n + 4, f->groups[g].name, GENL_NAMSIZ);
			n += 20;
		}
	}
	out_record(REC_READY, rec, n);
}
