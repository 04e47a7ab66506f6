#!/bin/sh
# Harness self-test: the guest never finishes. tests/vm/run must stop it at its timeout and fail.
#vm: --timeout 20
. /lib/zdrs/ktap.sh

ktap_plan 1
ktap_test about_to_hang true
sleep 100000
