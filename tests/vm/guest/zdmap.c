// SPDX-License-Identifier: GPL-2.0
/*
 * zdmap: exercises a /dev/zone_deviceN mapping of samples/rust/rust_zone_device.rs in the test
 * VM. Built statically on the host by tests/vm/mkinitramfs. Every command prints what it found
 * and exits 0 only if it found what it should.
 *
 *   zdmap pattern DEV BYTES        map DEV, write a pattern to every page, read it back
 *   zdmap odirect DEV FILE BYTES   map DEV, read BYTES of FILE with O_DIRECT into the mapping,
 *                                  compare with a buffered read of FILE
 *   zdmap hold DEV BYTES READY GO  map DEV, write the pattern, create READY, wait for GO to
 *                                  exist, then touch the mapping: it must raise SIGBUS
 *   zdmap keep DEV BYTES READY GO  like hold, but the pattern must still be there after GO
 *   zdmap pin DEV FILE BYTES READY map DEV, read FILE with O_DIRECT into the mapping again and
 *                                  again, creating READY after the first read went through, until
 *                                  a read fails: that must be after READY, with EFAULT or a short
 *                                  read (the mapping was revoked)
 *   zdmap splice DEV BYTES READY GO
 *                                  map DEV, vmsplice the mapping into a pipe (the pipe holds
 *                                  references to the pages), create READY, wait for GO to exist,
 *                                  then close the pipe (dropping the references)
 *   zdmap toolong DEV BYTES        mmap of BYTES (more than the range) must fail with EINVAL
 *   zdmap poison DEV BYTES         map DEV, write the pattern, poison its second page with
 *                                  madvise(MADV_HWPOISON) (memory failure of a device page):
 *                                  the process must get SIGBUS, at once or on its next access
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096UL

static sigjmp_buf fault_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(fault_jmp, 1);
}

static void usage(void)
{
	fprintf(stderr, "usage: zdmap pattern|odirect|hold|keep|pin|splice|toolong|poison DEV [FILE] BYTES [READY [GO]]\n");
	exit(2);
}

static unsigned char *map_dev(const char *dev, size_t bytes)
{
	int fd = open(dev, O_RDWR);
	void *p;

	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", dev, strerror(errno));
		exit(1);
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap %s (%zu bytes): %s\n", dev, bytes, strerror(errno));
		exit(1);
	}
	close(fd);
	return p;
}

static uint64_t pattern(size_t page, size_t word)
{
	return 0x5a5a000000000000ULL ^ ((uint64_t)page << 20) ^ word;
}

static int write_and_check(unsigned char *p, size_t bytes)
{
	size_t pages = bytes / PAGE, words = PAGE / sizeof(uint64_t), i, j;

	for (i = 0; i < pages; i++)
		for (j = 0; j < words; j++)
			((uint64_t *)(p + i * PAGE))[j] = pattern(i, j);
	for (i = 0; i < pages; i++)
		for (j = 0; j < words; j++)
			if (((uint64_t *)(p + i * PAGE))[j] != pattern(i, j)) {
				printf("mismatch at page %zu word %zu\n", i, j);
				return 1;
			}
	printf("pattern written and read back in %zu pages\n", pages);
	return 0;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	if (fd >= 0)
		close(fd);
}

static int cmd_odirect(const char *dev, const char *file, size_t bytes)
{
	unsigned char *p = map_dev(dev, bytes), *copy = malloc(bytes);
	int fd = open(file, O_RDONLY | O_DIRECT);
	ssize_t n;

	if (fd < 0 || !copy) {
		fprintf(stderr, "open %s O_DIRECT: %s\n", file, strerror(errno));
		return 1;
	}
	memset(p, 0xee, bytes);
	n = pread(fd, p, bytes, 0);
	if (n != (ssize_t)bytes) {
		fprintf(stderr, "O_DIRECT read into the mapping: %zd (%s)\n", n, strerror(errno));
		return 1;
	}
	close(fd);
	fd = open(file, O_RDONLY);
	if (fd < 0 || pread(fd, copy, bytes, 0) != (ssize_t)bytes) {
		fprintf(stderr, "buffered read of %s failed\n", file);
		return 1;
	}
	if (memcmp(p, copy, bytes)) {
		printf("the O_DIRECT data in the mapping differs from a buffered read\n");
		return 1;
	}
	printf("O_DIRECT read %zu bytes into the device memory, same as a buffered read\n", bytes);
	return 0;
}

/* Waits until the file GO exists. */
static void wait_for(const char *go)
{
	struct stat st;

	while (stat(go, &st))
		usleep(10000);
}

/* Maps DEV, writes the pattern, creates READY and waits for GO; NULL if the pattern failed. */
static unsigned char *map_and_wait(const char *dev, size_t bytes, const char *ready, const char *go)
{
	unsigned char *p = map_dev(dev, bytes);

	if (write_and_check(p, bytes))
		return NULL;
	touch(ready);
	wait_for(go);
	return p;
}

static int cmd_keep(const char *dev, size_t bytes, const char *ready, const char *go)
{
	unsigned char *p = map_and_wait(dev, bytes, ready, go);
	size_t i, words = bytes / sizeof(uint64_t);

	if (!p)
		return 1;
	for (i = 0; i < words; i++)
		if (((uint64_t *)p)[i] != pattern(i / (PAGE / sizeof(uint64_t)), i % (PAGE / sizeof(uint64_t)))) {
			printf("the pattern changed at word %zu\n", i);
			return 1;
		}
	printf("the mapping still holds the pattern\n");
	return 0;
}

static int cmd_hold(const char *dev, size_t bytes, const char *ready, const char *go)
{
	volatile unsigned char *v = map_and_wait(dev, bytes, ready, go);

	if (!v)
		return 1;
	signal(SIGBUS, on_sigbus);
	if (sigsetjmp(fault_jmp, 1)) {
		printf("SIGBUS on access after the mapping was revoked\n");
		return 0;
	}
	printf("read %#x after revocation: no SIGBUS\n", v[0]);
	return 1;
}

static int cmd_poison(const char *dev, size_t bytes)
{
	unsigned char *p = map_dev(dev, bytes);
	volatile unsigned char *v = p;

	if (bytes < 2 * PAGE || write_and_check(p, bytes))
		return 1;
	signal(SIGBUS, on_sigbus);
	if (sigsetjmp(fault_jmp, 1)) {
		printf("SIGBUS for the poisoned page\n");
		return 0;
	}
	if (madvise(p + PAGE, PAGE, MADV_HWPOISON)) {
		printf("madvise(MADV_HWPOISON): %s\n", strerror(errno));
		return 1;
	}
	printf("read %#x from the poisoned page: no SIGBUS\n", v[PAGE]);
	return 1;
}

static int cmd_pin(const char *dev, const char *file, size_t bytes, const char *ready)
{
	unsigned char *p = map_dev(dev, bytes);
	int fd = open(file, O_RDONLY | O_DIRECT);
	unsigned long reads = 0;

	if (fd < 0) {
		fprintf(stderr, "open %s O_DIRECT: %s\n", file, strerror(errno));
		return 1;
	}
	signal(SIGBUS, on_sigbus);
	if (sigsetjmp(fault_jmp, 1)) {
		printf("SIGBUS after %lu O_DIRECT reads: the pin loop never touches the mapping\n", reads);
		return 1;
	}
	for (;;) {
		ssize_t n = pread(fd, p, bytes, 0);
		int err = errno;

		if (n == (ssize_t)bytes) {
			/* READY once O_DIRECT into the mapping has worked. */
			if (!reads++)
				touch(ready);
			continue;
		}
		/*
		 * The revoked mapping has no page left to pin: the read in flight or the next one
		 * fails with EFAULT (or comes back short). Any other failure, or one before a first
		 * read went through (before READY), is not the revocation.
		 */
		if (!reads || (n < 0 && err != EFAULT)) {
			printf("O_DIRECT read into the mapping failed after %lu reads: %s\n", reads,
			       n < 0 ? strerror(err) : "short read");
			return 1;
		}
		printf("O_DIRECT read failed after %lu reads (%s): the mapping was revoked\n",
		       reads, n < 0 ? strerror(err) : "short read");
		return 0;
	}
}

static int cmd_splice(const char *dev, size_t bytes, const char *ready, const char *go)
{
	unsigned char *p = map_dev(dev, bytes);
	struct iovec iov = { .iov_base = p, .iov_len = bytes };
	int fds[2];
	ssize_t n;

	memset(p, 0x3c, bytes);
	if (pipe(fds) || fcntl(fds[1], F_SETPIPE_SZ, (int)bytes) < (int)bytes) {
		fprintf(stderr, "pipe of %zu bytes: %s\n", bytes, strerror(errno));
		return 1;
	}
	n = vmsplice(fds[1], &iov, 1, 0);
	if (n != (ssize_t)bytes) {
		fprintf(stderr, "vmsplice: %zd (%s)\n", n, strerror(errno));
		return 1;
	}
	printf("the pipe holds references to %zu pages of the mapping\n", bytes / PAGE);
	fflush(stdout);
	touch(ready);
	wait_for(go);
	close(fds[0]);
	close(fds[1]);
	printf("pipe closed: the references are dropped\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		usage();
	if (!strcmp(argv[1], "pattern") && argc == 4)
		return write_and_check(map_dev(argv[2], strtoul(argv[3], NULL, 0)),
				       strtoul(argv[3], NULL, 0));
	if (!strcmp(argv[1], "odirect") && argc == 5)
		return cmd_odirect(argv[2], argv[3], strtoul(argv[4], NULL, 0));
	if (!strcmp(argv[1], "hold") && argc == 6)
		return cmd_hold(argv[2], strtoul(argv[3], NULL, 0), argv[4], argv[5]);
	if (!strcmp(argv[1], "keep") && argc == 6)
		return cmd_keep(argv[2], strtoul(argv[3], NULL, 0), argv[4], argv[5]);
	if (!strcmp(argv[1], "pin") && argc == 6)
		return cmd_pin(argv[2], argv[3], strtoul(argv[4], NULL, 0), argv[5]);
	if (!strcmp(argv[1], "splice") && argc == 6)
		return cmd_splice(argv[2], strtoul(argv[3], NULL, 0), argv[4], argv[5]);
	if (!strcmp(argv[1], "poison") && argc == 4)
		return cmd_poison(argv[2], strtoul(argv[3], NULL, 0));
	if (!strcmp(argv[1], "toolong") && argc == 4) {
		int fd = open(argv[2], O_RDWR);
		void *p = mmap(NULL, strtoul(argv[3], NULL, 0), PROT_READ, MAP_SHARED, fd, 0);

		if (p != MAP_FAILED || errno != EINVAL) {
			printf("mmap beyond the range: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
			return 1;
		}
		printf("mmap beyond the range: EINVAL\n");
		return 0;
	}
	usage();
	return 2;
}
