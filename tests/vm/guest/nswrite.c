// SPDX-License-Identifier: GPL-2.0
/*
 * nswrite FILE VALUE: writes VALUE to FILE (a sysfs file, such as a driver's bind or unbind) in
 * one write(2) and prints how many nanoseconds the write took (CLOCK_MONOTONIC). Fails, naming
 * the error, if the open or the write does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	ssize_t written;
	size_t len;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: nswrite FILE VALUE\n");
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
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (written != (ssize_t)len) {
		fprintf(stderr, "nswrite: writing %s to %s: %s\n", argv[2], argv[1],
			written < 0 ? strerror(errno) : "short write");
		return 1;
	}
	close(fd);
	printf("%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
			     (t1.tv_nsec - t0.tv_nsec));
	return 0;
}
