/* Shared state and the record framing between the agent and the bridge (native/README.md). */
#ifndef NLBRIDGE_BRIDGE_H
#define NLBRIDGE_BRIDGE_H

#include "linux.h"

/* Records: u32 payload length, u16 kind, u16 reserved (0), then the payload. */
#define REC_HDRLEN 8
#define REC_NL 1      /* both ways: one netlink datagram */
#define REC_JOIN 2    /* agent -> bridge: u32 multicast group id */
#define REC_LEAVE 3   /* agent -> bridge: u32 multicast group id */
#define REC_READY 16  /* bridge -> agent: socket open, families resolved */
#define REC_RESULT 17 /* bridge -> agent: outcome of JOIN/LEAVE */
#define REC_REFUSED 18 /* bridge -> agent: an REC_NL datagram was not sent */
#define REC_ERROR 19  /* bridge -> agent: anything else that went wrong */

#define PROTOCOL_VERSION 1
#define MAX_SEND 16384          /* largest datagram the agent may send */
#define MAX_DISCARD (1u << 20)  /* larger lengths mean the stream is garbage: give up */
#define RECV_BUF 65536          /* the kernel caps dump skbs well below this */
#define MAX_FAMILIES 4
#define MAX_GROUPS 8
#define MAX_REFUSED_HDRS 16

#define EXIT_USAGE 1
#define EXIT_SOCKET 2
#define EXIT_STREAM 3
#define EXIT_OUTPUT 4

struct mcast_group {
	u32 id;
	char name[GENL_NAMSIZ];
};

struct family {
	char name[GENL_NAMSIZ];
	u16 id; /* 0 = not resolved (yet) */
	u16 ngroups;
	s32 err; /* errno of the last resolution attempt, 0 if resolved */
	struct mcast_group groups[MAX_GROUPS];
};

struct bridge {
	int protocol; /* NETLINK_GENERIC or NETLINK_ROUTE */
	int sock;
	u32 portid;
	int nfamilies;
	struct family fam[MAX_FAMILIES];
};

/* What the policy says about a datagram: the headers it saw, for REC_REFUSED. */
struct verdict {
	s32 err;
	u32 nhdrs;
	u8 hdrs[MAX_REFUSED_HDRS][NLMSG_HDRLEN];
	const char *why;
	u32 why_num; /* printed after why when why_has_num */
	int why_has_num;
};

/* out.c */
int out_write(const u8 *p, usize n);
void out_record(u16 kind, const u8 *payload, u32 len);
void out_error(s32 err, int fatal, const char *text, long num, int has_num);
void err_text(const char *s);
void err_num(long v);
void put_record_header(u8 *hdr, u32 len, u16 kind);
__attribute__((noreturn)) void bridge_exit(int code);

/* families.c */
int family_name_ok(const char *s);
int family_resolve(struct bridge *b, struct family *f, u32 seq);
void family_learn(struct bridge *b, const u8 *msg, u32 len);
int family_getfamily_allowed(const struct bridge *b, const u8 *attrs, u32 len);
int family_group_allowed(const struct bridge *b, u32 group);
void send_ready(const struct bridge *b);

/* policy.c */
int policy_check(const struct bridge *b, const u8 *d, u32 len, struct verdict *v);

/* input.c */
int input_pump(struct bridge *b); /* 0 = EOF on stdin */

/* relay.c */
void relay_from_kernel(struct bridge *b);
long nl_send(int sock, const u8 *d, u32 len);

/* mem.c */
void *memcpy(void *dst, const void *src, usize n);
void *memmove(void *dst, const void *src, usize n);
void *memset(void *dst, int c, usize n);
int memcmp(const void *a, const void *b, usize n);
int str_len(const char *s);
int str_eq_n(const char *a, const char *b, u32 n);
u32 fmt_u32(char *buf, u32 x);

#endif
