/*
 * ev.c - names and validation of normalized events (see ev.h).
 */
#include "ev.h"

#include <errno.h>

const char *ev_type_name(unsigned type)
{
	static const char *const names[EV_NTYPES] = {
		[EV_NONE] = "none", [EV_EXEC] = "exec", [EV_COMM] = "comm",
		[EV_FORK] = "fork", [EV_FORK_DONE] = "fork_done", [EV_EXIT] = "exit",
		[EV_MMAP] = "mmap", [EV_MUNMAP] = "munmap",
		[EV_MPROTECT] = "mprotect", [EV_MREMAP] = "mremap", [EV_BRK] = "brk",
		[EV_MADVISE] = "madvise", [EV_FAULT] = "fault", [EV_GUP] = "gup",
		[EV_GUP_PUT] = "gup_put", [EV_SWAPOUT] = "swapout",
		[EV_SWAPIN] = "swapin", [EV_KSM] = "ksm", [EV_MIGRATE] = "migrate",
		[EV_OBSERVED] = "observed", [EV_MARKER] = "marker",
		[EV_PAGE_INIT] = "page_init",
	};
	return type < EV_NTYPES ? names[type] : "?";
}

static int bad(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

int ev_validate(const struct cs_ev *ev, uint64_t prev_ts, uint32_t nstrings,
                const char **why)
{
	const uint64_t pagemask = EV_PAGE_SIZE - 1;

	if (ev->type == EV_NONE || ev->type >= EV_NTYPES)
		return bad(why, "unknown event type");
	if (ev->rsv)
		return bad(why, "reserved byte is not zero");
	if (ev->ts < prev_ts)
		return bad(why, "timestamp goes backwards");
	if (ev->tid > EV_PID_MAX || ev->tgid > EV_PID_MAX ||
	    ((ev->type == EV_FORK || ev->type == EV_FORK_DONE) &&
	     ev->arg > EV_PID_MAX))
		return bad(why, "task id above Linux's PID_MAX_LIMIT");
	switch (ev->type) {
	case EV_MMAP:
	case EV_MUNMAP:
	case EV_MPROTECT:
	case EV_MADVISE:
	case EV_GUP:
	case EV_SWAPOUT:
	case EV_SWAPIN:
	case EV_KSM:
	case EV_MIGRATE:
	case EV_PAGE_INIT:
	case EV_MREMAP:
		if (ev->addr & pagemask)
			return bad(why, "address is not page aligned");
		if (!ev->len)
			return bad(why, "zero length");
		if (ev->addr >= EV_USER_TOP ||
		    (ev->addr >> EV_PAGE_SHIFT) + ev->len > (EV_USER_TOP >> EV_PAGE_SHIFT))
			return bad(why, "range beyond the user address space");
		break;
	case EV_FAULT:
	case EV_OBSERVED:
		if (ev->addr >= EV_USER_TOP)
			return bad(why, "address beyond the user address space");
		break;
	case EV_BRK:
		if (ev->addr >= EV_USER_TOP || ev->aux >= EV_USER_TOP)
			return bad(why, "brk beyond the user address space");
		break;
	default:
		break;
	}
	if (ev->type == EV_MREMAP) {
		if ((ev->aux & pagemask) || ev->aux >= EV_USER_TOP ||
		    (ev->aux >> EV_PAGE_SHIFT) + ev->arg > (EV_USER_TOP >> EV_PAGE_SHIFT))
			return bad(why, "mremap target out of range");
	}
	if ((ev->type == EV_EXEC || ev->type == EV_COMM || ev->type == EV_MARKER ||
	     ev->type == EV_MMAP) && ev->arg >= nstrings)
		return bad(why, "string id out of range");
	if (ev->type == EV_OBSERVED && (ev->flags == EV_OBS_NONE || ev->flags > EV_OBS_NEW))
		return bad(why, "unknown observed outcome");
	if (ev->type == EV_GUP && ev->len > (1u << 20))
		return bad(why, "GUP of more than 4 GiB at once");
	return 0;
}
