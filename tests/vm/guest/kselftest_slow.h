/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Included first (gcc -include) when tests/vm/mkinitramfs builds hmm-tests-tcg and hmm-tests-slow,
 * the kernel's HMM selftests with the harness's timeouts scaled: the default timeout of a test by
 * KSELFTEST_DEFAULT_TIMEOUT_SCALE, each TEST_F_TIMEOUT() by KSELFTEST_TIMEOUT_SCALE. Under TCG and
 * KASAN a test can run past the default 30 s, and benchmark_thp_migration needs far more than its
 * 120 s. The source is the kernel's, unchanged; only the timeouts are scaled.
 */
#include "kselftest_harness.h"

#ifndef KSELFTEST_DEFAULT_TIMEOUT_SCALE
#define KSELFTEST_DEFAULT_TIMEOUT_SCALE 1
#endif
#ifndef KSELFTEST_TIMEOUT_SCALE
#define KSELFTEST_TIMEOUT_SCALE 1
#endif

/* TEST_F() and TEST_F_SIGNAL() expand it where each test is declared. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT (30 * KSELFTEST_DEFAULT_TIMEOUT_SCALE)

#undef TEST_F_TIMEOUT
#define TEST_F_TIMEOUT(fixture_name, test_name, timeout) \
	__TEST_F_IMPL(fixture_name, test_name, -1, (timeout) * KSELFTEST_TIMEOUT_SCALE)
