// SPDX-License-Identifier: GPL-2.0
/*
 * nswrite FILE VALUE [READY]: writes VALUE to FILE (a sysfs file, such as a driver's bind or
 * unbind) in one write(2) and prints how many nanoseconds the write took (CLOCK_MONOTONIC).
 * With READY, the time runs until the path READY exists (a device that the write makes appear
 * asynchronously, such as /dev/pmem0 after binding a libnvdimm provider); it fails if READY
 * does not appear within 60 s. Fails, naming the error, if the open or the write does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long elapsed_ns(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long long)(t1.tv_sec - t0->tv_sec) * 1000000000LL + (t1.tv_nsec - t0->tv_nsec);
}

int main(int argc, char **argv)
{
	const struct timespec tick = { .tv_nsec = 100000 };
	struct timespec t0;
	ssize_t written;
	size_t len;
	int fd;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: nswrite FILE VALUE [READY]\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "nswrite: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	len = strlen(argv[2]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	written = write(fd, argv[2], len);
	if (written != (ssize_t)len) {
		fprintf(stderr, "nswrite: writing %s to %s: %s\n", argv[2], argv[1],
			written < 0 ? strerror(errno) : "short write");
		return 1;
	}
	while (argc == 4 && access(argv[3], F_OK)) {
		if (elapsed_ns(&t0) > 60000000000LL) {
			fprintf(stderr, "nswrite: %s did not appear within 60 s\n", argv[3]);
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	printf("%lld\n", elapsed_ns(&t0));
	close(fd);
	return 0;
}
