/* The few kernel ABI constants and structures the bridge uses (from include/uapi/linux/
 * netlink.h, genetlink.h, rtnetlink.h, asm-generic/socket.h, errno.h). Same values on all
 * targets except where MIPS differs (marked); kept here so the build needs no kernel headers for the cross targets. */
#ifndef NLBRIDGE_LINUX_H
#define NLBRIDGE_LINUX_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int s32;
typedef unsigned long usize; /* size_t on ILP32 and LP64 alike */

#define AF_NETLINK 16
#define SOCK_RAW 3
#define SOCK_CLOEXEC 02000000
#define NETLINK_ROUTE 0
#define NETLINK_GENERIC 16
#if defined(__mips__) /* MIPS keeps the old SunOS-style numbers (arch/mips/include/uapi/asm/socket.h) */
#define SOL_SOCKET 0xffff
#define SO_RCVBUF 0x1002
#else
#define SOL_SOCKET 1
#define SO_RCVBUF 8
#endif
#define SOL_NETLINK 270
#define NETLINK_ADD_MEMBERSHIP 1
#define NETLINK_DROP_MEMBERSHIP 2
#define NETLINK_CAP_ACK 10
#define NETLINK_EXT_ACK 11
#define MSG_TRUNC 0x20

#define POLLIN 0x1
#define POLLERR 0x8
#define POLLHUP 0x10

#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EAGAIN 11
#define EINVAL 22
#define EPROTO 71
#if defined(__mips__) /* arch/mips/include/uapi/asm/errno.h: the kernel's (and so the wire's) numbers there */
#define EMSGSIZE 97
#define EPROTONOSUPPORT 120
#define ENOBUFS 132
#else
#define EMSGSIZE 90
#define EPROTONOSUPPORT 93
#define ENOBUFS 105
#endif

#define NLMSG_HDRLEN 16
#define NLMSG_ERROR 2
#define NLMSG_MIN_TYPE 0x10
#define NLM_F_REQUEST 0x1
#define NLM_F_DUMP 0x300
#define GENL_HDRLEN 4
#define GENL_ID_CTRL 0x10
#define CTRL_CMD_NEWFAMILY 1
#define CTRL_CMD_GETFAMILY 3
#define CTRL_ATTR_FAMILY_ID 1
#define CTRL_ATTR_FAMILY_NAME 2
#define CTRL_ATTR_MCAST_GROUPS 7
#define CTRL_ATTR_MCAST_GRP_NAME 1
#define CTRL_ATTR_MCAST_GRP_ID 2
#define NLA_TYPE_MASK 0x3fff
#define GENL_NAMSIZ 16

#define RTM_NEWLINK 16
#define RTM_DELLINK 17
#define RTM_GETLINK 18
#define RTM_SETLINK 19
#define IFINFOMSG_LEN 16
#define RTNLGRP_LINK 1

struct sockaddr_nl {
	u16 nl_family;
	u16 nl_pad;
	u32 nl_pid;
	u32 nl_groups;
};

struct iovec {
	void *iov_base;
	usize iov_len;
};

struct msghdr {
	void *msg_name;
	int msg_namelen;
	struct iovec *msg_iov;
	usize msg_iovlen;
	void *msg_control;
	usize msg_controllen;
	unsigned int msg_flags;
};

struct pollfd {
	int fd;
	short events;
	short revents;
};

/* Netlink data is 4-byte aligned, but the agent's bytes need not be: read through memcpy. */
static inline u32 get_u32(const u8 *p) { u32 v; __builtin_memcpy(&v, p, 4); return v; }
static inline u16 get_u16(const u8 *p) { u16 v; __builtin_memcpy(&v, p, 2); return v; }
static inline void put_u32(u8 *p, u32 v) { __builtin_memcpy(p, &v, 4); }
static inline void put_u16(u8 *p, u16 v) { __builtin_memcpy(p, &v, 2); }
static inline u32 align4(u32 n) { return (n + 3u) & ~3u; }

#endif
