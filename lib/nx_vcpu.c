// SPDX-License-Identifier: GPL-2.0-only
/* KVM_RUN with a deadline per guest step (see nx_vcpu.h). */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "nx_poll.h"
#include "nx_vcpu.h"

/* A signal no test uses: it only has to make KVM_RUN return -EINTR. */
#define NX_STEP_SIGNAL	SIGURG

static void nx_step_interrupt(int sig)
{
}

unsigned int nx_step_timeout_s(void)
{
	const char *env = getenv("NX_STEP_TIMEOUT_S");
	char *end;
	long s;

	if (!env || !*env)
		return NX_STEP_TIMEOUT_S;
	s = strtol(env, &end, 10);
	TEST_ASSERT(!*end && s > 0 && s <= 3600,
		    "NX_STEP_TIMEOUT_S: expected seconds (1-3600), got '%s'", env);
	return s;
}

/*
 * A timer that signals this thread at the deadline and every second after
 * it, so that a signal landing between two KVM_RUNs of a retry is followed
 * by another.  No SA_RESTART: KVM_RUN must return.
 */
static timer_t nx_step_timer(unsigned int timeout_s)
{
	struct sigaction sa = { .sa_handler = nx_step_interrupt };
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = NX_STEP_SIGNAL,
	};
	struct itimerspec its = {
		.it_value.tv_sec = timeout_s,
		.it_interval.tv_sec = 1,
	};
	timer_t timer;

	sigemptyset(&sa.sa_mask);
	TEST_ASSERT(!sigaction(NX_STEP_SIGNAL, &sa, NULL),
		    "sigaction for the guest step deadline failed");
	sev._sigev_un._tid = syscall(SYS_gettid);
	TEST_ASSERT(!timer_create(CLOCK_MONOTONIC, &sev, &timer),
		    "timer_create for the guest step deadline failed");
	TEST_ASSERT(!timer_settime(timer, 0, &its, NULL),
		    "timer_settime for the guest step deadline failed");
	return timer;
}

static void nx_vcpu_hung(struct kvm_vcpu *vcpu, const char *what,
			 unsigned int timeout_s)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	vcpu_regs_get(vcpu, &regs);
	vcpu_sregs_get(vcpu, &sregs);
	TEST_FAIL("vCPU %u did not return from KVM_RUN within %u s: %s (guest rip 0x%llx rsp 0x%llx rax 0x%llx rflags 0x%llx cr2 0x%llx cr3 0x%llx)",
		  vcpu->id, timeout_s, what, regs.rip, regs.rsp, regs.rax,
		  regs.rflags, sregs.cr2, sregs.cr3);
}

void nx_vcpu_run(struct kvm_vcpu *vcpu, const char *what)
{
	unsigned int timeout_s = nx_step_timeout_s();
	uint64_t deadline = nx_now_us() + timeout_s * 1000000ULL;
	timer_t timer = nx_step_timer(timeout_s);
	int rc;

	for (;;) {
		rc = __vcpu_run(vcpu);
		if (!rc || errno != EINTR)
			break;
		if (nx_now_us() >= deadline) {
			timer_delete(timer);
			nx_vcpu_hung(vcpu, what, timeout_s);
		}
	}
	timer_delete(timer);
	TEST_ASSERT(!rc, "KVM_RUN (%s): expected 0, got %d", what, rc);
	assert_on_unhandled_exception(vcpu);
}
