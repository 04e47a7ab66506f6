#!/bin/sh
# Harness self-test: the guest never finishes. tests/vm/run must stop it at its timeout and fail.
# kmemleak off and 2 GiB: its scans (about 80 s of a boot under TCG) check nothing here.
#vm: --mem 2G --append kmemleak=off
#vm: --timeout 20
. /lib/zdrs/ktap.sh

ktap_plan 1
ktap_test about_to_hang true
sleep 100000
