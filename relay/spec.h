/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fault spec language of pager-relay (docs/fault-injection.md has the full description):
 *
 *	SPEC  := RULE { ';' RULE }
 *	RULE  := KIND [ '=' VALUE ] [ ':' SCOPE { ',' SCOPE } ] [ '@' PARAM { ',' PARAM } ]
 *
 * e.g. "delay=1ms..3ms;cut:push@frames=500;drop@p=0.05;stall:page=0:0x3000@ms=500".
 * A rule says what to do (KIND, VALUE), to which traffic (SCOPE: channel, direction, page) and
 * when (PARAM: phase, frame index, probability, how many times). Parsing only checks the text;
 * what fires is decided by relay/faults.c with the seeded schedule of relay/schedule.c.
 */
#ifndef RELAY_SPEC_H
#define RELAY_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_MAX_RULES 32
#define RELAY_RULE_TEXT 160
#define RELAY_MAX_WINDOW 64u
#define RELAY_MAX_FLIPS 64u
#define RELAY_DEFAULT_MID_PUSH_PAGES 256u

enum relay_fault {
	FAULT_DELAY,     /* hold every frame in scope for a fixed or random time */
	FAULT_THROTTLE,  /* pace the bytes in scope at a rate */
	FAULT_STALL,     /* stop a stream (a page's, or every stream at a phase) for a while */
	FAULT_REORDER,   /* permute PAGE frames within a window */
	FAULT_DUP,       /* send a PAGE frame twice */
	FAULT_DROP,      /* never send a response (a PAGE frame with the DEMAND flag) */
	FAULT_CORRUPT,   /* flip bits in a PAGE frame's payload */
	FAULT_CUT,       /* close connections */
	FAULT_BLACKHOLE, /* stop forwarding both ways, sockets kept open */
	FAULT_KIND_END,
};

/*
 * Points in a migration the relay recognises from the frames that pass (relay/phase.c). Each
 * happens at most once per connection pair.
 */
enum relay_phase {
	PHASE_NONE,
	PHASE_HANDSHAKE,   /* before the pair's first Hello */
	PHASE_CONFIG,      /* before the VM_CONFIG frame */
	PHASE_SWITCHOVER,  /* before the SWITCHOVER frame (after pre-copy) */
	PHASE_STATE,       /* before the VM_STATE frame */
	PHASE_RESTORE,     /* after the last VCPU_STATE: the destination restores, nobody faulted */
	PHASE_FIRST_FAULT, /* before the first PAGE_REQUEST */
	PHASE_MID_PUSH,    /* after the push PAGE frame that brings the pushed pages to pages=N */
	PHASE_COMPLETION,  /* before the destination's COMPLETE */
	PHASE_END,
};

/* Scope masks. A connection whose first frame is not a Hello is of channel OTHER. */
#define RELAY_CH_OTHER (1u << 0)
#define RELAY_CH_DEMAND (1u << 1)
#define RELAY_CH_PUSH (1u << 2)
#define RELAY_CH_ALL (RELAY_CH_OTHER | RELAY_CH_DEMAND | RELAY_CH_PUSH)
#define RELAY_DIR_TO_DEST (1u << 0)   /* source -> destination */
#define RELAY_DIR_TO_SOURCE (1u << 1) /* destination -> source */
#define RELAY_DIR_ALL (RELAY_DIR_TO_DEST | RELAY_DIR_TO_SOURCE)

struct relay_rule {
	enum relay_fault kind;
	/* Scope */
	unsigned int channels, dirs;
	bool has_page;
	uint32_t page_region;
	uint64_t page_offset;
	/* When: every gate must pass, then the probability roll, then the budget */
	enum relay_phase phase;
	uint64_t mid_push_pages;  /* PHASE_MID_PUSH: pushed pages before it */
	bool has_frames;
	uint64_t from_frame;      /* frame index on the channel, in that direction, from 0 */
	bool has_p;
	double p;
	uint64_t count;           /* firings allowed; 0: no limit */
	bool every;               /* count is per connection pair rather than per run */
	/* What */
	uint64_t delay_min_ns, delay_max_ns;
	uint64_t duration_ns;     /* stall; blackhole (0: until a peer closes) */
	uint64_t rate_bytes;      /* throttle, bytes per second */
	uint32_t window;          /* reorder */
	uint32_t bits;            /* corrupt: bits flipped per frame */
	char text[RELAY_RULE_TEXT]; /* as written, for messages */
};

struct relay_spec {
	unsigned int n_rules;
	struct relay_rule rules[RELAY_MAX_RULES];
};

/*
 * Parses text and appends its rules to spec (which may already hold some). 0, or -EINVAL with
 * a sentence in err that names the rule and what is wrong with it; spec is then unchanged.
 */
int relay_spec_parse(struct relay_spec *spec, const char *text, char *err, size_t err_len);

/* The rule in canonical form, every default spelled out: the schedule line a run prints. */
void relay_rule_format(const struct relay_rule *rule, char *buf, size_t len);

/*
 * A connection-level rule that fires at the moment its phase begins, rather than on a frame
 * it matches (cut, blackhole or stall with a phase and no frame, page or probability).
 */
bool relay_rule_at_phase(const struct relay_rule *rule);

const char *relay_fault_name(enum relay_fault kind);
const char *relay_phase_name(enum relay_phase phase);

/* Values of the language, exposed for tests: 0 or -EINVAL. */
int relay_parse_duration(const char *text, uint64_t *ns);
int relay_parse_rate(const char *text, uint64_t *bytes_per_s);
int relay_parse_probability(const char *text, double *p);

#endif
