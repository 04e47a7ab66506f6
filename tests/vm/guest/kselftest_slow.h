/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Included first (gcc -include) when tests/vm/mkinitramfs builds hmm-tests-slow, the kernel's HMM
 * selftests with each TEST_F_TIMEOUT() multiplied by KSELFTEST_TIMEOUT_SCALE: under TCG and KASAN
 * benchmark_thp_migration needs far more than its 120 s, and the harness would kill it midway.
 * The source is the kernel's, unchanged; only the timeouts it declares are scaled.
 */
#include "kselftest_harness.h"

#ifndef KSELFTEST_TIMEOUT_SCALE
#define KSELFTEST_TIMEOUT_SCALE 30
#endif

#undef TEST_F_TIMEOUT
#define TEST_F_TIMEOUT(fixture_name, test_name, timeout) \
	__TEST_F_IMPL(fixture_name, test_name, -1, (timeout) * KSELFTEST_TIMEOUT_SCALE)
