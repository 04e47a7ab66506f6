// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_kill: a process that migrates transparent huge pages to a test_hmm device
 * (lib/test_hmm.ko) dies, and then the device is closed, which makes test_hmm evict every page of
 * the device back to system memory (dmirror_fops_release()). Built statically on the host by
 * tests/vm/mkinitramfs.
 *
 *   hmm_kill kill DEV ROUNDS   each round a child migrates 4 MiB of THP-backed memory to DEV and
 *                              back in a loop; the parent sends it SIGKILL after a delay that
 *                              varies with the round (0 to 9.9 ms), so that it dies at a
 *                              different point of the migration
 *   hmm_kill race DEV ROUNDS   each round a child migrates 64 MiB of THP-backed memory to DEV and
 *                              waits; a second child opens and closes DEV, which evicts the first
 *                              one's pages, and the first child exits after a delay that varies
 *                              with the round (0 to 9/10 of the time an eviction takes, measured
 *                              first): its address space is torn down while the eviction has its
 *                              pages unmapped (issue 19: what the kselftest
 *                              harness does when it kills a test on its timeout and goes on to
 *                              the next one while the killed process still exits)
 *
 *   hmm_kill exit DEV ROUNDS   each round an owner migrates 16 MiB of THP-backed memory to DEV
 *                              and then fills 256 MiB of ordinary memory, mapped below it, so that
 *                              tearing its address space down takes long; it is killed, and a
 *                              second process opens and closes DEV after a delay that varies with
 *                              the round (0 to 9/10 of the time the owner takes to die, measured
 *                              first): the eviction unmaps the owner's huge pages (PMD migration
 *                              entries) while the owner's exit_mmap() zaps them (patch 0010)
 *
 * After each round the parent opens DEV and closes it (the eviction), and at the end it migrates a
 * buffer of its own to DEV and back and checks that the data survived. It exits 0 only if every
 * step succeeded; the kernel's log tells whether the eviction touched freed memory (KASAN).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lib/test_hmm_uapi.h>

#define PAGE 4096UL
#define THP (2UL << 20)

/* The buffer of a round: 4 MiB, 64 MiB in mode race (an eviction long enough to race with). */
static size_t bytes = 2 * THP;
/* Mode exit: the owner's ordinary memory, which makes its exit long enough to race with. */
#define BALLAST (128 * THP)

static void usage(void)
{
	fprintf(stderr, "usage: hmm_kill kill|race|exit DEV ROUNDS\n");
	exit(2);
}

/* An anonymous buffer of bytes aligned to THP, advised to use huge pages, filled with seed. */
static uint32_t *thp_buffer(uint32_t seed)
{
	uint8_t *raw = mmap(NULL, bytes + THP, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t *buf;
	size_t i;

	if (raw == MAP_FAILED) {
		perror("mmap");
		return NULL;
	}
	buf = (uint32_t *)(((uintptr_t)raw + THP - 1) & ~(THP - 1));
	if (madvise(buf, bytes, MADV_HUGEPAGE)) {
		perror("madvise(MADV_HUGEPAGE)");
		return NULL;
	}
	for (i = 0; i < bytes / sizeof(*buf); i++)
		buf[i] = seed + i;
	return buf;
}

/* Migrates buf (bytes) to the device (HMM_DMIRROR_MIGRATE_TO_DEV) or back to system memory. */
static int migrate(int fd, uint32_t *buf, unsigned long request, uint32_t *bounce)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)buf,
		.ptr = (uintptr_t)bounce,
		.npages = bytes / PAGE,
	};

	if (ioctl(fd, request, &cmd)) {
		fprintf(stderr, "migrate %s: %s\n",
			request == HMM_DMIRROR_MIGRATE_TO_DEV ? "to device" : "to system",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* The child of a round of mode kill: migrates to the device and back until killed. */
static void kill_child(const char *dev, int ready)
{
	uint32_t *buf = thp_buffer(0x1000), *bounce = thp_buffer(0);
	int fd = open(dev, O_RDWR);

	if (!buf || !bounce || fd < 0) {
		fprintf(stderr, "child: set-up failed: %s\n", strerror(errno));
		_exit(1);
	}
	if (migrate(fd, buf, HMM_DMIRROR_MIGRATE_TO_DEV, bounce) || write(ready, "r", 1) != 1)
		_exit(1);
	for (;;) {
		if (migrate(fd, buf, HMM_DMIRROR_MIGRATE_TO_SYS, bounce) ||
		    migrate(fd, buf, HMM_DMIRROR_MIGRATE_TO_DEV, bounce))
			_exit(1);
	}
}

/* Opens and closes dev: test_hmm evicts every page of the device (dmirror_fops_release()). */
static int evict(const char *dev)
{
	int fd = open(dev, O_RDWR);

	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", dev, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Forks a process that runs child(dev, ready), which writes a byte to ready once it is set up and
 * does not return. Returns its pid once it is ready, or -1.
 */
static pid_t spawn(const char *dev, void (*child)(const char *dev, int ready), const char *who)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready)) {
		perror("pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return -1;
	}
	if (pid == 0) {
		close(ready[0]);
		child(dev, ready[1]);
		_exit(1);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "the %s died before it was set up\n", who);
		close(ready[0]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(ready[0]);
	return pid;
}

/* A round of mode kill: the child is killed during its migrations, then the device evicted. */
static int kill_round(const char *dev, int round)
{
	struct timespec delay = { 0, (round * 1300L % 10000) * 1000 };
	int status;
	pid_t pid;

	pid = spawn(dev, kill_child, "child");
	if (pid < 0)
		return -1;
	nanosleep(&delay, NULL);
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		return -1;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		fprintf(stderr, "round %d: the child ended with status %#x\n", round, status);
		return -1;
	}
	return evict(dev);
}

/* waitpid(pid), which must have exited with status 0. */
static int exited_ok(pid_t pid, const char *who, int round)
{
	int status;

	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "round %d: the %s ended with status %#x\n", round, who, status);
		return -1;
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Mode race: the owner exits once its parent closes the write end of this pipe. */
static int race_go[2];

/*
 * The owner of mode race: migrates bytes of THP-backed memory to dev, says it is ready and exits
 * when race_go is closed, with its pages on the device.
 */
static void race_owner(const char *dev, int ready)
{
	uint32_t *buf = thp_buffer(0x2000), *bounce = thp_buffer(0);
	int fd = open(dev, O_RDWR);
	char c;

	close(race_go[1]);
	if (!buf || !bounce || fd < 0 || migrate(fd, buf, HMM_DMIRROR_MIGRATE_TO_DEV, bounce) ||
	    write(ready, "r", 1) != 1)
		_exit(1);
	while (read(race_go[0], &c, 1) > 0)
		;
	_exit(0);
}

/*
 * A round of mode race: the owner's exit races with another process's eviction of its pages.
 * The owner exits delay_ms after the eviction started (never, with delay_ms < 0: it exits once
 * the eviction is over). Returns how long the eviction took, or -1.
 */
static double race_round(const char *dev, int round, double delay_ms)
{
	struct timespec delay = { (long)delay_ms / 1000, (long)(delay_ms * 1e6) % 1000000000L };
	double start;
	pid_t owner, evictor;

	if (pipe(race_go)) {
		perror("pipe");
		return -1;
	}
	owner = spawn(dev, race_owner, "owner");
	close(race_go[0]);
	if (owner < 0) {
		close(race_go[1]);
		return -1;
	}
	evictor = fork();
	if (evictor < 0) {
		perror("fork");
		return -1;
	}
	start = now_ms();
	if (evictor == 0) {
		/* Else the owner would wait for the evictor to exit before it can. */
		close(race_go[1]);
		_exit(evict(dev) ? 1 : 0);
	}
	if (delay_ms >= 0) {
		nanosleep(&delay, NULL);
		close(race_go[1]);
	}
	if (exited_ok(evictor, "evictor", round))
		return -1;
	start = now_ms() - start;
	if (delay_ms < 0)
		close(race_go[1]);
	if (exited_ok(owner, "owner", round) || evict(dev))
		return -1;
	return start;
}

/*
 * The owner of mode exit: migrates bytes of THP-backed memory to dev, then maps and fills BALLAST
 * bytes of ordinary memory (below, as mmap() goes down: exit_mmap() unmaps it first), says it is
 * ready and waits to be killed.
 */
static void owner_with_ballast(const char *dev, int ready)
{
	uint32_t *buf = thp_buffer(0x2000), *bounce = thp_buffer(0);
	int fd = open(dev, O_RDWR);
	uint8_t *ballast;

	if (!buf || !bounce || fd < 0 || migrate(fd, buf, HMM_DMIRROR_MIGRATE_TO_DEV, bounce))
		_exit(1);
	ballast = mmap(NULL, BALLAST, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ballast == MAP_FAILED || madvise(ballast, BALLAST, MADV_NOHUGEPAGE))
		_exit(1);
	memset(ballast, 0x5a, BALLAST);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/*
 * A round of mode exit: the owner is killed, and delay_ms later another process evicts the
 * device's pages (once the owner is gone, with delay_ms < 0). Returns how long the owner took
 * to die, or -1.
 */
static double exit_round(const char *dev, int round, double delay_ms)
{
	struct timespec delay = { (long)delay_ms / 1000, (long)(delay_ms * 1e6) % 1000000000L };
	pid_t owner, evictor = 0;
	double took;
	int status;

	owner = spawn(dev, owner_with_ballast, "owner");
	if (owner < 0)
		return -1;
	took = now_ms();
	kill(owner, SIGKILL);
	if (delay_ms >= 0) {
		nanosleep(&delay, NULL);
		evictor = fork();
		if (evictor < 0) {
			perror("fork");
			return -1;
		}
		if (evictor == 0)
			_exit(evict(dev) ? 1 : 0);
	}
	if (waitpid(owner, &status, 0) != owner || !WIFSIGNALED(status)) {
		fprintf(stderr, "round %d: the owner ended with status %#x\n", round, status);
		return -1;
	}
	took = now_ms() - took;
	if (evictor && exited_ok(evictor, "evictor", round))
		return -1;
	if (evict(dev))
		return -1;
	return took;
}

/* The device still migrates: a buffer of this process goes there and back intact. */
static int round_trip(const char *dev)
{
	uint32_t *buf = thp_buffer(0xabc0), *bounce = thp_buffer(0);
	int fd = open(dev, O_RDWR), ret = 0;
	size_t i;

	if (!buf || !bounce || fd < 0) {
		fprintf(stderr, "round trip: set-up failed\n");
		return -1;
	}
	if (migrate(fd, buf, HMM_DMIRROR_MIGRATE_TO_DEV, bounce) ||
	    migrate(fd, buf, HMM_DMIRROR_MIGRATE_TO_SYS, bounce))
		ret = -1;
	for (i = 0; !ret && i < bytes / sizeof(*buf); i++) {
		if (buf[i] != 0xabc0 + i) {
			fprintf(stderr, "round trip: word %zu is %#x\n", i, buf[i]);
			ret = -1;
		}
	}
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	const char *mode = argc == 4 ? argv[1] : "";
	int rounds, round, ret = 0;
	double ms = 0;

	if (strcmp(mode, "kill") && strcmp(mode, "race") && strcmp(mode, "exit"))
		usage();
	rounds = atoi(argv[3]);
	if (rounds <= 0)
		usage();
	/* Each round says where it is: a kernel oops stops the guest with nothing buffered. */
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(mode, "race")) {
		/* How long an eviction of the owner's pages takes; the owner then exits in each tenth. */
		bytes = 32 * THP;
		ms = race_round(argv[2], -1, -1);
		if (ms < 0)
			return 1;
		printf("an eviction of %zu MiB takes %.0f ms\n", bytes >> 20, ms);
	} else if (!strcmp(mode, "exit")) {
		/* How long the owner takes to die; the eviction then starts in each tenth of it. */
		bytes = 8 * THP;
		ms = exit_round(argv[2], -1, -1);
		if (ms < 0)
			return 1;
		printf("an owner of %zu MiB takes %.0f ms to die\n", (BALLAST + bytes) >> 20, ms);
	}
	for (round = 0; !ret && round < rounds; round++) {
		printf("round %d\n", round);
		if (!strcmp(mode, "race"))
			ret = race_round(argv[2], round, ms * (round % 10) / 10) < 0;
		else if (!strcmp(mode, "exit"))
			ret = exit_round(argv[2], round, ms * (round % 10) / 10) < 0;
		else
			ret = kill_round(argv[2], round);
	}
	if (ret || round_trip(argv[2]))
		return 1;
	printf("%d rounds of %s on %s, then a round trip: fine\n", rounds, mode, argv[2]);
	return 0;
}
