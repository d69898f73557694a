// SPDX-License-Identifier: GPL-2.0-only
/* A VM over N regions and a model of its mappings; see include/nx_vm.h. */

#include "nx_host.h"
#include "nx_nested.h"
#include "nx_poll.h"
#include "nx_skip.h"
#include "nx_traits.h"
#include "nx_vm.h"

#define NX_ZAP_DEADLINE_MS	10000
/* A count that holds this long is no pass under way (NX_PASS_SETTLE_MS, twice). */
#define NX_VM_SETTLE_MS		60

static void nx_vm_require_thp(struct nx_vm *v)
{
	uint64_t want = v->r.nr * NX_REGION_SIZE;
	uint64_t thp = nx_thp_backed_bytes(nx_region_hva(&v->r, 0), want);

	if (thp < want)
		nx_skip("host backed only %lu of %lu bytes with THP", thp, want);
}

static void nx_vm_baseline(struct nx_vm *v)
{
	nx_counts_read(v->vm, &v->want);
	TEST_ASSERT(v->want.nx_lpage_splits == 0,
		    "before the first region access: expected nx_lpage_splits=0, got %ld",
		    v->want.nx_lpage_splits);
}

void nx_vm_create(struct nx_vm *v, enum vm_mem_backing_src_type src, int nr,
		  bool nx_on, bool disable_nx)
{
	int ret;

	TEST_ASSERT(nr <= NX_MAX_REGIONS, "at most %d regions, %d asked",
		    NX_MAX_REGIONS, nr);
	memset(v, 0, sizeof(*v));
	v->vm = vm_create(NX_VM_MAX_VCPUS);
	if (disable_nx) {
		__TEST_REQUIRE(kvm_has_cap(KVM_CAP_VM_DISABLE_NX_HUGE_PAGES),
			       "KVM lacks KVM_CAP_VM_DISABLE_NX_HUGE_PAGES");
		ret = __vm_disable_nx_huge_pages(v->vm);
		TEST_ASSERT(!ret, "KVM_CAP_VM_DISABLE_NX_HUGE_PAGES with CAP_SYS_BOOT: expected 0, got %d (errno %d)",
			    ret, errno);
	}
	v->nx_on = nx_on && !disable_nx;
	v->vcpu = vm_vcpu_add(v->vm, 0, nx_guest_main);
	nx_regions_add(v->vm, &v->r, src, nr);
	v->backed_1g = src == VM_MEM_SRC_ANONYMOUS_HUGETLB_1GB;
	if (src == VM_MEM_SRC_ANONYMOUS_THP)
		nx_vm_require_thp(v);
	nx_guest_start(v->vcpu, &v->r);
	nx_vm_baseline(v);
}

/* Every path of both levels' command loops run once (nx_guest_warm_up()). */
static void nx_vm_warm_up(struct nx_vm *v)
{
	nx_guest_warm_up(v->vcpu, &v->r);
	if (!v->nested)
		return;
	/* L2 first, then L1 again: entering L2 and leaving it maps pages too. */
	nx_guest_warm_up_level(v->vcpu, &v->r, NX_L2);
	nx_guest_warm_up_level(v->vcpu, &v->r, NX_L1);
}

void nx_vm_create_nested(struct nx_vm *v, enum vm_mem_backing_src_type src,
			 int nr, bool nx_on)
{
	TEST_ASSERT(nr <= NX_MAX_REGIONS, "at most %d regions, %d asked",
		    NX_MAX_REGIONS, nr);
	memset(v, 0, sizeof(*v));
	nx_nested_require();
	v->vm = vm_create(NX_VM_MAX_VCPUS);
	v->nx_on = nx_on;
	v->nested = true;
	/* Decided once: each trait look-up reads /proc/kallsyms. */
	v->tdp_list = nx_mmu_mode() == NX_MMU_TDP &&
		      nx_kernel_has(NX_TRAIT_READ_LOCK_RECOVERY);
	v->vcpu = vm_vcpu_add(v->vm, 0, nx_nested_l1_main);
	nx_regions_add(v->vm, &v->r, src, nr);
	v->backed_1g = src == VM_MEM_SRC_ANONYMOUS_HUGETLB_1GB;
	nx_nested_setup(v->vcpu, &v->r);
	nx_guest_start(v->vcpu, &v->r);
	nx_vm_warm_up(v);
	nx_vm_baseline(v);
}


void nx_vm_expect(struct nx_vm *v, const char *step)
{
	nx_counts_expect(v->vm, &v->want, step);
}

static bool nx_vm_counts_reached(void *arg)
{
	struct nx_vm *v = arg;
	struct nx_counts got;

	nx_counts_read(v->vm, &got);
	return !memcmp(&got, &v->want, sizeof(got));
}

void nx_vm_expect_eventually(struct nx_vm *v, const char *step)
{
	nx_poll_until(nx_vm_counts_reached, v, NX_ZAP_DEADLINE_MS, 500, NULL);
	nx_vm_expect(v, step);
}

/*
 * The MMU that maps region @m: L2's memory is mapped by the shadow MMU that
 * shadows L1's nested page table, which behaves as mmu=legacy does.
 */
static enum nx_mmu nx_vm_region_mmu(const struct nx_region_model *m)
{
	enum nx_mmu mmu = nx_mmu_mode();

	return m->level == NX_L2 && mmu == NX_MMU_TDP ? NX_MMU_LEGACY : mmu;
}

/*
 * 4K mappings an execute leaves, seen the first time, then held to
 * exactly.  What the kernel model says (nx_traits.h): the TDP MMU maps the
 * faulting page alone, or splits a 2M mapping in place (all 512 stay); the
 * shadow MMU (mmu=legacy and mmu=shadow) zaps the 2M mapping, then maps the
 * faulting page and prefetches the rest of its aligned group.
 */
static int nx_vm_split_4k_want(enum nx_mmu mmu, bool was_huge)
{
	if (mmu != NX_MMU_TDP)
		return nx_kernel_has_in(NX_TRAIT_PTE_PREFETCH, mmu) ?
			NX_PTE_PREFETCH : 1;
	return was_huge && nx_kernel_has_in(NX_TRAIT_SPLIT_IN_PLACE, mmu) ?
		NX_PTES_PER_2M : 1;
}

static int nx_vm_learn_4k(struct nx_vm *v, const struct nx_region_model *m,
			  const char *what, bool was_huge)
{
	int64_t delta = nx_vm_stat(v->vm, pages_4k) - v->want.pages_4k;
	enum nx_mmu mmu = nx_vm_region_mmu(m);
	int want = nx_vm_split_4k_want(mmu, was_huge);

	/* No split at all: nx_vm_expect() reports every counter. */
	if (nx_vm_stat(v->vm, nx_lpage_splits) != v->want.nx_lpage_splits + 1)
		return 1;
	TEST_ASSERT(delta == want,
		    "%s (%s): expected pages_4k to grow by %d (%s), got %ld",
		    what, nx_mmu_name(mmu), want,
		    mmu != NX_MMU_TDP ? "fault and PTE prefetch" :
		    want == NX_PTES_PER_2M ? "split in place" : "zap and fault",
		    delta);
	printf("%s%s (%s) leaves %ld 4K mappings\n",
	       m->level == NX_L2 ? "L2's " : "", what, nx_mmu_name(mmu), delta);
	return delta;
}

static void nx_vm_split(struct nx_vm *v, struct nx_region_model *m, int pages)
{
	m->state = NX_SPLIT;
	m->pages_4k = pages;
	m->split_seq = v->next_seq++;
	v->want.pages_4k += pages;
	v->want.nx_lpage_splits++;
}

/*
 * A 4K fault that is no NX split: in a dirty-logged slot, or under a page
 * table left in place (table_left).  The shadow MMU prefetches the aligned
 * group of NX_PTE_PREFETCH around the page unless the mapping is writable
 * in a dirty-logged slot: with nested paging (mmu=legacy) it is, under
 * shadow paging the guest's clean PTE makes it read-only.  The TDP MMU
 * maps the one page.
 */
static int nx_vm_fault_pages(struct nx_vm *v, const struct nx_region_model *m)
{
	enum nx_mmu mmu = nx_vm_region_mmu(m);

	if (!nx_kernel_has_in(NX_TRAIT_PTE_PREFETCH, mmu))
		return 1;
	if (mmu == NX_MMU_SHADOW || (mmu == NX_MMU_LEGACY && !v->dirty_log))
		return NX_PTE_PREFETCH;
	return 1;
}

static void nx_vm_map_4k(struct nx_vm *v, struct nx_region_model *m)
{
	int pages = nx_vm_fault_pages(v, m);

	m->state = NX_4K_UNACCOUNTED;
	m->pages_4k = pages;
	v->want.pages_4k += pages;
}

/* The 1G page around region @i, or NULL if the backing is not 1G. */
static struct nx_1g_model *nx_vm_1g(struct nx_vm *v, int i)
{
	return v->backed_1g ? &v->gb[i / NX_REGIONS_PER_1G] : NULL;
}

/*
 * 2M and 4K mappings an execute in a 1G mapping leaves: a TDP MMU that
 * splits in place (nx_traits.h) splits the 1G mapping into 512 2M ones
 * (still not executable) and the executed one into 512 4K ones; otherwise
 * the 1G mapping is zapped and only the faulting page is mapped (with its
 * prefetched group under the shadow MMU).  Seen at the first such split,
 * then held to.
 */
static void nx_vm_learn_split_1g(struct nx_vm *v, const struct nx_region_model *m)
{
	int64_t d2m = nx_vm_stat(v->vm, pages_2m) - v->want.pages_2m;
	int64_t d4k = nx_vm_stat(v->vm, pages_4k) - v->want.pages_4k;
	enum nx_mmu mmu = nx_vm_region_mmu(m);
	bool in_place = nx_kernel_has_in(NX_TRAIT_SPLIT_IN_PLACE, mmu);
	int *split_4k = m->level == NX_L2 ? &v->split_4k_l2 : &v->split_4k;
	int64_t w2m = in_place ? NX_REGIONS_PER_1G - 1 : 0;
	int64_t w4k = in_place ? NX_PTES_PER_2M : nx_vm_fault_pages(v, m);

	v->split_1g_seen = true;
	v->split_1g_2m = 0;
	if (nx_vm_stat(v->vm, nx_lpage_splits) != v->want.nx_lpage_splits + 2)
		return;	/* nx_vm_expect() reports every counter */
	TEST_ASSERT(d2m == w2m && d4k == w4k,
		    "first NX split of a 1G mapping (%s): expected pages_2m %+ld and pages_4k %+ld (%s), got %+ld and %+ld",
		    nx_mmu_name(mmu), w2m, w4k,
		    in_place ? "split in place" : "zap and fault", d2m, d4k);
	v->split_1g_2m = d2m;
	if (!*split_4k)
		*split_4k = d4k;
	printf("an %sNX split of a 1G mapping (%s) leaves %ld 2M and %ld 4K mappings\n",
	       m->level == NX_L2 ? "L2 " : "", nx_mmu_name(mmu), d2m, d4k);
}

/* An execute in region @i of a 1G page mapped 1G (or not at all). */
static void nx_vm_exec_1g(struct nx_vm *v, struct nx_1g_model *gb, int i)
{
	int first = i - i % NX_REGIONS_PER_1G, j;
	bool mapped = gb->state == NX_1G_HUGE;

	if (mapped && !v->split_1g_seen)
		nx_vm_learn_split_1g(v, &v->model[i]);
	gb->state = NX_1G_SPLIT;
	gb->split_seq = v->next_seq++;
	v->want.nx_lpage_splits++;
	if (mapped) {
		v->want.pages_1g--;
		for (j = first; v->split_1g_2m && j < first + NX_REGIONS_PER_1G; j++) {
			v->model[j].state = j == i ? NX_UNMAPPED : NX_HUGE;
			v->model[j].level = v->model[i].level;
		}
		v->want.pages_2m += v->split_1g_2m;
	}
	/* The executed region: its own 4K table, accounted too. */
	nx_vm_split(v, &v->model[i],
		    !mapped ? nx_vm_fault_pages(v, &v->model[i]) :
		    v->model[i].level == NX_L2 ? v->split_4k_l2 : v->split_4k);
}

/*
 * Region @i is mapped by the guest at @level from now on: a region is
 * used by one level only, or the model could not tell whose it is.
 */
static struct nx_region_model *nx_vm_at(struct nx_vm *v, int level, int i)
{
	struct nx_region_model *m = &v->model[i];

	TEST_ASSERT(level == 0 || v->nested,
		    "region %d: a step for L%d in a VM without a nested guest",
		    i, level);
	TEST_ASSERT(m->state == NX_UNMAPPED || m->level == level,
		    "region %d: mapped by L%d, now used by L%d (test bug)",
		    i, m->level, level);
	m->level = level;
	return m;
}

static void nx_vm_access(struct nx_vm *v, int level, int i,
			 enum nx_guest_op op)
{
	struct nx_1g_model *gb = nx_vm_1g(v, i);
	struct nx_region_model *m = nx_vm_at(v, level, i);
	char step[64];

	nx_guest_do_level(v->vcpu, &v->r, level, op, i);
	/*
	 * A read maps an unmapped region 2M (4K with dirty logging or a page
	 * table left under it), or the whole 1G page around it when nothing
	 * is mapped there at the 1G level; a mapped one stays as it is.
	 */
	if (gb && gb->state == NX_1G_NONE) {
		gb->state = NX_1G_HUGE;
		v->want.pages_1g++;
	} else if (gb && gb->state == NX_1G_HUGE) {
		/* Already mapped by the 1G page. */
	} else if (m->state == NX_UNMAPPED && (v->dirty_log || m->table_left)) {
		nx_vm_map_4k(v, m);
	} else if (m->state == NX_UNMAPPED) {
		m->state = NX_HUGE;
		v->want.pages_2m++;
	}
	snprintf(step, sizeof(step), "%s%s of region %d",
		 level == NX_L2 ? "L2 " : level == NX_L1 ? "L1 " : "",
		 op == NX_GUEST_WRITE ? "write" : "read", i);
	nx_vm_expect(v, step);
}

void nx_vm_read(struct nx_vm *v, int i)
{
	nx_vm_access(v, 0, i, NX_GUEST_READ);
}

void nx_vm_read_at(struct nx_vm *v, int level, int i)
{
	nx_vm_access(v, level, i, NX_GUEST_READ);
}

void nx_vm_write(struct nx_vm *v, int i)
{
	nx_vm_access(v, 0, i, NX_GUEST_WRITE);
}

void nx_vm_exec(struct nx_vm *v, int i)
{
	nx_vm_exec_at(v, 0, i);
}

void nx_vm_exec_at(struct nx_vm *v, int level, int i)
{
	struct nx_1g_model *gb = nx_vm_1g(v, i);
	struct nx_region_model *m = nx_vm_at(v, level, i);
	int *split_4k = level == NX_L2 ? &v->split_4k_l2 : &v->split_4k;
	int *fault_4k = level == NX_L2 ? &v->fault_4k_l2 : &v->fault_4k;
	char step[80];

	nx_guest_do_level(v->vcpu, &v->r, level, NX_GUEST_EXEC, i);
	if (gb && gb->state != NX_1G_SPLIT && v->nx_on) {
		nx_vm_exec_1g(v, gb, i);
	} else if (gb && gb->state == NX_1G_NONE) {
		gb->state = NX_1G_HUGE;
		v->want.pages_1g++;
	} else if (gb && gb->state == NX_1G_HUGE) {
		/* Mitigation off: the 1G mapping stays. */
	} else if (m->state == NX_UNMAPPED && (v->dirty_log || m->table_left)) {
		nx_vm_map_4k(v, m);
	} else if (!v->nx_on && m->state == NX_UNMAPPED) {
		m->state = NX_HUGE;
		v->want.pages_2m++;
	} else if (v->nx_on && m->state == NX_UNMAPPED) {
		/* Faulted straight in at 4K, under an NX page table. */
		if (!*fault_4k)
			*fault_4k = nx_vm_learn_4k(v, m, "first execute of an unmapped region", false);
		nx_vm_split(v, m, *fault_4k);
	} else if (v->nx_on && m->state == NX_HUGE) {
		if (!*split_4k)
			*split_4k = nx_vm_learn_4k(v, m, "first NX split", true);
		v->want.pages_2m--;
		nx_vm_split(v, m, *split_4k);
	}
	snprintf(step, sizeof(step), "%sexecute in region %d (%s)",
		 level == NX_L2 ? "L2 " : level == NX_L1 ? "L1 " : "", i,
		 v->nx_on ? "mitigation on" : "mitigation off");
	nx_vm_expect(v, step);
}

struct nx_vm_still {
	struct kvm_vm *vm;
	int64_t splits;
	uint64_t since_us;
};

/* The split count has not moved for a settle time. */
static bool nx_vm_splits_still(void *arg)
{
	struct nx_vm_still *s = arg;
	int64_t now = nx_vm_stat(s->vm, nx_lpage_splits);

	if (now != s->splits) {
		s->splits = now;
		s->since_us = nx_now_us();
	}
	return nx_now_us() - s->since_us >= NX_VM_SETTLE_MS * 1000ULL;
}

/*
 * Recovery off, so that no pass zaps while the regions are executed, and
 * what a pass zapped after the case's last look accounted for (the oldest
 * splits, as one list gives them).
 */
static void nx_vm_stop_recovery(struct nx_vm *v)
{
	struct nx_vm_still still = { v->vm, -1, 0 };
	struct nx_poll_result res;
	int64_t gone;

	nx_require_kvm_param("nx_huge_pages_recovery_ratio", "0");
	nx_poll_until(nx_vm_splits_still, &still, NX_ZAP_DEADLINE_MS, 5000, &res);
	TEST_ASSERT(res.met,
		    "recovery off: expected nx_lpage_splits to hold still for %d ms within %d ms, it did not (%ld)",
		    NX_VM_SETTLE_MS, NX_ZAP_DEADLINE_MS, still.splits);
	gone = v->want.nx_lpage_splits - still.splits;
	if (gone > 0) {
		nx_vm_recovered(v, gone);
		nx_vm_expect_eventually(v, "a recovery pass after the case's last step");
	}
}

/*
 * The mitigation's invariant, checked wherever a case leaves a region
 * mapped huge again (recovered and read, made huge in place after dirty
 * logging, mapped after a toggle): while it is on, an execute there must
 * split the mapping again, never run from an executable huge page.
 */
static void nx_vm_exec_huge_again(struct nx_vm *v)
{
	int i, n = 0;

	if (!v->nx_on || v->dirty_log)
		return;
	nx_vm_stop_recovery(v);
	for (i = 0; i < v->r.nr; i++) {
		struct nx_1g_model *gb = nx_vm_1g(v, i);

		if ((gb && gb->state == NX_1G_HUGE) ||
		    v->model[i].state == NX_HUGE) {
			nx_vm_exec_at(v, v->model[i].level, i);
			n++;
		}
	}
	if (n)
		printf("mitigation: %d mappings huge again split on execute\n", n);
}

void nx_vm_free(struct nx_vm *v)
{
	nx_vm_exec_huge_again(v);
	kvm_vm_free(v->vm);
	v->vm = NULL;
}

void nx_vm_read_all(struct nx_vm *v)
{
	int i;

	for (i = 0; i < v->r.nr; i++)
		nx_vm_read(v, i);
}

void nx_vm_exec_all(struct nx_vm *v)
{
	int i;

	for (i = 0; i < v->r.nr; i++)
		nx_vm_exec(v, i);
}

void nx_vm_fill_split(struct nx_vm *v)
{
	struct nx_region_model *m;
	int i;

	for (i = 0; i < v->r.nr; i++) {
		m = &v->model[i];
		if (m->state != NX_SPLIT || m->pages_4k != 1)
			continue;
		nx_guest_do_level(v->vcpu, &v->r, m->level, NX_GUEST_READ_PAGES, i);
		v->want.pages_4k += NX_GUEST_FILL_PAGES - 1;
		m->pages_4k = NX_GUEST_FILL_PAGES;
	}
	nx_vm_expect(v, "reading every 4K page of the split regions");
}

enum nx_list nx_vm_region_list(const struct nx_vm *v, int i)
{
	return v->tdp_list && v->model[i].level != NX_L2 ?
		NX_LIST_TDP : NX_LIST_SHADOW;
}

int nx_vm_list_splits(const struct nx_vm *v, enum nx_list list)
{
	int i, n = 0;

	for (i = 0; i < v->r.nr; i++)
		n += v->model[i].state == NX_SPLIT &&
		     nx_vm_region_list(v, i) == list;
	return n;
}

/*
 * The oldest split region (of @list, or of any with -1), as KVM's FIFO of
 * NX pages would give it.
 */
static struct nx_region_model *nx_vm_first_split_on(struct nx_vm *v, int list)
{
	struct nx_region_model *oldest = NULL;
	int i;

	for (i = 0; i < v->r.nr; i++)
		if (v->model[i].state == NX_SPLIT &&
		    (list < 0 || (int)nx_vm_region_list(v, i) == list) &&
		    (!oldest || v->model[i].split_seq < oldest->split_seq))
			oldest = &v->model[i];
	return oldest;
}

static struct nx_region_model *nx_vm_first_split(struct nx_vm *v)
{
	return nx_vm_first_split_on(v, -1);
}

static struct nx_region_model *nx_vm_oldest_split(struct nx_vm *v)
{
	struct nx_region_model *oldest = nx_vm_first_split(v);

	TEST_ASSERT(oldest, "model: no split region left to recover");
	return oldest;
}

/* The oldest split 1G page, if it is older than region split @m. */
static int nx_vm_older_1g(struct nx_vm *v, const struct nx_region_model *m)
{
	int g, oldest = -1;

	for (g = 0; v->backed_1g && g < NX_MAX_1G; g++)
		if (v->gb[g].state == NX_1G_SPLIT &&
		    (!m || v->gb[g].split_seq < m->split_seq) &&
		    (oldest < 0 || v->gb[g].split_seq < v->gb[oldest].split_seq))
			oldest = g;
	return oldest;
}

static void nx_vm_zap_region(struct nx_vm *v, struct nx_region_model *m)
{
	if (m->state == NX_SPLIT)
		v->want.nx_lpage_splits--;
	if (m->state == NX_HUGE)
		v->want.pages_2m--;
	v->want.pages_4k -= m->pages_4k;
	m->state = NX_UNMAPPED;
	m->pages_4k = 0;
}

/* Zapping the 2M-level table of 1G page @g takes everything under it. */
static void nx_vm_zap_1g(struct nx_vm *v, int g)
{
	int i, first = g * NX_REGIONS_PER_1G;

	for (i = first; i < first + NX_REGIONS_PER_1G && i < v->r.nr; i++)
		nx_vm_zap_region(v, &v->model[i]);
	v->gb[g].state = NX_1G_NONE;
	v->want.nx_lpage_splits--;
}

void nx_vm_recovered(struct nx_vm *v, int n)
{
	struct nx_region_model *m;
	int64_t target = v->want.nx_lpage_splits - n;
	int g;

	while (v->want.nx_lpage_splits > target) {
		m = nx_vm_first_split(v);
		g = nx_vm_older_1g(v, m);
		if (g >= 0)
			nx_vm_zap_1g(v, g);
		else
			nx_vm_zap_region(v, nx_vm_oldest_split(v));
	}
}

void nx_vm_recovered_list(struct nx_vm *v, enum nx_list list, int n)
{
	struct nx_region_model *m;

	TEST_ASSERT(!v->backed_1g, "model: per-list recovery of 1G pages");
	while (n--) {
		m = nx_vm_first_split_on(v, list);
		TEST_ASSERT(m, "model: no split region left on the %s list",
			    list == NX_LIST_TDP ? "TDP MMU's" : "shadow MMU's");
		nx_vm_zap_region(v, m);
	}
}

void nx_vm_unaccounted(struct nx_vm *v, int n)
{
	while (n--) {
		nx_vm_oldest_split(v)->state = NX_4K_UNACCOUNTED;
		v->want.nx_lpage_splits--;
	}
}

void nx_vm_collapsed(struct nx_vm *v)
{
	bool table_left = nx_kernel_has(NX_TRAIT_COLLAPSE_LEAVES_TABLE);
	/* Non-executable while the mitigation is on: an execute splits again. */
	bool in_place = nx_kernel_has(NX_TRAIT_RECOVER_HUGE_IN_PLACE);
	struct nx_region_model *m;
	int i;

	for (i = 0; i < v->r.nr; i++) {
		m = &v->model[i];
		if (m->state != NX_4K_UNACCOUNTED && m->state != NX_SPLIT)
			continue;
		v->want.pages_4k -= m->pages_4k;
		if (m->state == NX_SPLIT)
			v->want.nx_lpage_splits--;
		m->state = in_place ? NX_HUGE : NX_UNMAPPED;
		v->want.pages_2m += in_place;
		m->pages_4k = 0;
		m->table_left = table_left;
	}
}

void nx_vm_set_dirty_log(struct nx_vm *v, bool on)
{
	vm_mem_region_set_flags(v->vm, NX_REGIONS_SLOT,
				on ? KVM_MEM_LOG_DIRTY_PAGES : 0);
	v->dirty_log = on;
	if (!on)
		nx_vm_collapsed(v);
	nx_vm_expect(v, on ? "turning dirty logging on" :
		     "turning dirty logging off");
}

static bool nx_vm_all_zero(void *arg)
{
	struct nx_counts c;

	nx_counts_read(arg, &c);
	return !c.pages_4k && !c.pages_2m && !c.pages_1g && !c.nx_lpage_splits;
}

double nx_vm_zapped_all(struct nx_vm *v, bool nx_on, const char *why)
{
	struct nx_poll_result res;
	struct nx_counts got;
	int i;

	nx_poll_until(nx_vm_all_zero, v->vm, NX_ZAP_DEADLINE_MS, 500, &res);
	nx_counts_read(v->vm, &got);
	TEST_ASSERT(res.met,
		    "%s: expected every mapping zapped (all counters 0) within %d ms, got pages_4k=%ld pages_2m=%ld pages_1g=%ld nx_lpage_splits=%ld",
		    why, NX_ZAP_DEADLINE_MS, got.pages_4k, got.pages_2m,
		    got.pages_1g, got.nx_lpage_splits);
	for (i = 0; i < v->r.nr; i++)
		memset(&v->model[i], 0, sizeof(v->model[i]));
	memset(v->gb, 0, sizeof(v->gb));
	v->nx_on = nx_on;
	v->split_4k = 0;
	v->split_1g_seen = false;
	v->fault_4k = 0;
	v->split_4k_l2 = 0;
	v->fault_4k_l2 = 0;
	nx_vm_warm_up(v);
	nx_vm_baseline(v);
	return res.elapsed_us / 1000.0;
}
