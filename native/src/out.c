/* Everything the bridge writes: records on stdout (fd 1), diagnostics on stderr (fd 2). */
#include "syscall.h"
#include "bridge.h"

void bridge_exit(int code)
{
	for (;;) sys_call3(NR_exit_group, code, 0, 0);
}

static void wait_writable(int fd)
{
	struct pollfd p = { fd, 0x4 /* POLLOUT */, 0 };
	sys_call5(NR_ppoll, (long)&p, 1, 0, 0, 8);
}

static int write_all(int fd, const u8 *p, usize n)
{
	while (n) {
		long r = sys_call3(NR_write, fd, p, n);
		if (r == -EINTR) continue;
		if (r == -EAGAIN) { wait_writable(fd); continue; }
		if (sys_failed(r) || r == 0) return -1;
		p += r;
		n -= (usize)r;
	}
	return 0;
}

/* The agent reads stdout; if it is gone there is nobody left to serve. */
int out_write(const u8 *p, usize n)
{
	if (write_all(1, p, n) < 0) bridge_exit(EXIT_OUTPUT);
	return 0;
}

void put_record_header(u8 *hdr, u32 len, u16 kind)
{
	put_u32(hdr, len);
	put_u16(hdr + 4, kind);
	put_u16(hdr + 6, 0);
}

void out_record(u16 kind, const u8 *payload, u32 len)
{
	u8 hdr[REC_HDRLEN];
	put_record_header(hdr, len, kind);
	out_write(hdr, REC_HDRLEN);
	if (len) out_write(payload, len);
}

void err_text(const char *s)
{
	write_all(2, (const u8 *)s, (usize)str_len(s));
}

/* Signed decimal; the values printed here (errnos, lengths, portids) fit in 32 bits. */
static u32 fmt_num(char *buf, long v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + fmt_u32(buf + 1, (u32)(0 - (unsigned long)v));
	}
	return fmt_u32(buf, (u32)v);
}

void err_num(long v)
{
	char buf[24];
	u32 n = fmt_num(buf, v);
	write_all(2, (const u8 *)buf, n);
}

/* ERROR record: s32 errno, u32 fatal, then text. Mirrored on stderr for the bounded log. */
void out_error(s32 err, int fatal, const char *text, long num, int has_num)
{
	static u8 rec[8 + 200];
	u32 n = 0, tl = (u32)str_len(text);
	if (tl > 160) tl = 160;
	put_u32(rec, (u32)err);
	put_u32(rec + 4, fatal ? 1u : 0u);
	for (n = 0; n < tl; n++) rec[8 + n] = (u8)text[n];
	if (has_num) {
		rec[8 + n++] = ' ';
		n += fmt_num((char *)rec + 8 + n, num);
	}
	out_record(REC_ERROR, rec, 8 + n);
	err_text("x0tta6bl4-nlbridge: ");
	write_all(2, rec + 8, n);
	err_text(" (errno ");
	err_num(err);
	err_text(fatal ? ", fatal)\n" : ")\n");
}
