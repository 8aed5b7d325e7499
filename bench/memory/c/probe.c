/*
 * The memory bench's prober inside the QEMU guest (built static on the host, never shipped).
 * A process forked per sample (curl, grep) would have its binary and libraries read back in over
 * 9p every second in a small guest and measure the harness instead of the agent, so one small
 * resident process does it all: it waits for the agent's first /health answer (up to 900 s),
 * then once a second for DURATION seconds sends GET /health on the agent's Unix socket (10 s
 * timeout) and copies the Rss/Anonymous/Swap lines of /proc/PID/smaps_rollup.
 *
 *   probe SOCKET PID DURATION OUTDIR   ->  OUTDIR/{agent-start-seconds,health.txt,smaps.txt,cpu.txt}
 * cpu.txt: the agent's utime and stime (clock ticks) and the guest's uptime, at the window's
 * start and end.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* One GET /health; returns the HTTP status (0: no answer) and stores the seconds it took. */
static int health(const char *path, double timeout, double *took) {
  double t0 = now();
  int status = 0;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    const char *req = "GET /health HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n";
    if (write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
      char buf[4096], head[16] = {0};
      size_t got = 0;
      for (;;) {
        int left = (int)((timeout - (now() - t0)) * 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0) break;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
          if (n == 0 && sscanf(head, "HTTP/1.%*d %d", &status) != 1) status = 0;
          break;
        }
        for (ssize_t i = 0; i < n && got < sizeof head - 1; i++) head[got++] = buf[i];
      }
    }
  }
  if (fd >= 0) close(fd);
  *took = now() - t0;
  return status;
}

static void smaps(const char *pid, FILE *out) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%s/smaps_rollup", pid);
  FILE *f = fopen(path, "r");
  if (f) {
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "Rss:", 4) || !strncmp(line, "Anonymous:", 10) || !strncmp(line, "Swap:", 5)) {
        line[strcspn(line, "\n")] = ' ';
        fputs(line, out);
      }
    fclose(f);
  }
  fputc('\n', out);
  fflush(out);
}

static void cpu(const char *pid, FILE *out) {
  char path[64], line[1024], up[64] = "0";
  unsigned long ut = 0, st = 0;
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  FILE *f = fopen(path, "r");
  if (f && fgets(line, sizeof line, f)) {
    char *p = strrchr(line, ')');
    /* after "pid (comm)": state is field 3, utime 14, stime 15 */
    if (p) sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
  }
  if (f) fclose(f);
  f = fopen("/proc/uptime", "r");
  if (f && fscanf(f, "%63s", up) != 1) strcpy(up, "0");
  if (f) fclose(f);
  fprintf(out, "%lu %lu %s\n", ut, st, up);
  fflush(out);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: probe SOCKET PID DURATION OUTDIR\n");
    return 2;
  }
  char file[512];
  double took, t0 = now();
  while (health(argv[1], 10, &took) != 200 && now() - t0 < 900) {
    if (kill(atoi(argv[2]), 0) != 0) return 1; /* the agent died: its log says why */
    sleep(1);
  }
  snprintf(file, sizeof file, "%s/agent-start-seconds", argv[4]);
  FILE *s = fopen(file, "w");
  if (s) fprintf(s, "%.0f\n", now() - t0), fclose(s);
  snprintf(file, sizeof file, "%s/health.txt", argv[4]);
  FILE *h = fopen(file, "w");
  snprintf(file, sizeof file, "%s/smaps.txt", argv[4]);
  FILE *m = fopen(file, "w");
  snprintf(file, sizeof file, "%s/cpu.txt", argv[4]);
  FILE *c = fopen(file, "w");
  if (!h || !m || !c) return 1;
  cpu(argv[2], c);
  double start = now(), next = start;
  while (now() - start < atof(argv[3])) {
    int code = health(argv[1], 10, &took);
    fprintf(h, "%03d %.6f\n", code, took);
    fflush(h);
    smaps(argv[2], m);
    /* once a second on a fixed schedule; ticks missed during a slow answer are skipped */
    next += 1;
    while (next < now()) next += 1;
    double d = next - now();
    struct timespec ts = {(time_t)d, (long)((d - (time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
  }
  cpu(argv[2], c);
  return 0;
}
