/* The memory functions GCC may call on its own even when freestanding (struct copies,
 * zeroing), plus the two string helpers the bridge needs. */
#include "bridge.h"

void *memcpy(void *dst, const void *src, usize n)
{
	u8 *d = dst;
	const u8 *s = src;
	while (n--) *d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, usize n)
{
	u8 *d = dst;
	const u8 *s = src;
	if (d < s) {
		while (n--) *d++ = *s++;
	} else {
		while (n--) d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, usize n)
{
	u8 *d = dst;
	while (n--) *d++ = (u8)c;
	return dst;
}

int memcmp(const void *a, const void *b, usize n)
{
	const u8 *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y) return *x - *y;
	return 0;
}

int str_len(const char *s)
{
	int n = 0;
	while (s[n]) n++;
	return n;
}

/* Equal as C strings, looking at no more than n bytes of either. */
int str_eq_n(const char *a, const char *b, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		if (a[i] != b[i]) return 0;
		if (!a[i]) return 1;
	}
	return 1;
}

/* Decimal digits without a division instruction: armv7-a has none, and at -Os GCC would call
 * libgcc's __aeabi_uidiv, which drags in signal raising. x/10 == (x * 0xCCCCCCCD) >> 35. */
u32 fmt_u32(char *buf, u32 x)
{
	char tmp[10];
	u32 n = 0, i = 0;
	do {
		u32 q = (u32)(((unsigned long long)x * 0xCCCCCCCDull) >> 35);
		tmp[n++] = (char)('0' + (x - q * 10));
		x = q;
	} while (x);
	while (n) buf[i++] = tmp[--n];
	buf[i] = 0;
	return i;
}
