/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libpager: fill memory lazily from a remote source over TCP, through userfaultfd.
 *
 * Destination side (struct pager): the owner maps memory, registers it with pager_add_region()
 * before anything touches it, and calls pager_start() with two connected sockets. From then on
 * a listener thread serves every missing-page fault, from any thread of the process and from
 * the kernel itself (a read(2) into the memory, or a KVM ioctl touching guest memory): it asks
 * the source for the page, installs it and wakes the waiters. Pages the source pushes in the
 * background are installed as they come. pager_wait() returns when every page is present.
 *
 * Source side (struct pager_source): serves a memory image to one destination, demand requests
 * first and a background push of the rest.
 *
 * Every function returns 0 (or a count) or a negative errno. Nothing here knows about KVM.
 * The library logs only through the callback in its options (default: warnings and errors on
 * stderr, prefixed "libpager:"). Only the functions declared PAGER_API are exported, under the
 * symbol version LIBPAGER_1 (libpager.map lists them).
 */
#ifndef PAGER_H
#define PAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility: this marks what it exports. */
#define PAGER_API __attribute__((visibility("default")))

/* ---- The memory layout both ends of a migration agree on ---- */

#define PAGER_MAX_REGIONS 64u

enum pager_backing {
	PAGER_BACKING_ANON = 1,    /* private anonymous memory (the one served in v1) */
	PAGER_BACKING_SHMEM = 2,   /* memfd / shmem (pager_add_region_memfd()) */
	PAGER_BACKING_HUGETLB = 3, /* hugetlbfs, 2 MiB pages */
};

struct pager_region {
	uint32_t id;  /* 0..n_regions-1, in order */
	uint64_t gpa; /* guest-physical address (or any address space the owner uses) */
	uint64_t size;
	enum pager_backing backing;
};

struct pager_layout {
	uint32_t n_regions;
	struct pager_region regions[PAGER_MAX_REGIONS];
};

/* ---- Logging (both ends) ---- */

enum pager_log_level { PAGER_LOG_ERR, PAGER_LOG_WARN, PAGER_LOG_INFO, PAGER_LOG_DEBUG };

/*
 * One message (no newline) at `level`, an enum pager_log_level. Called from any of the
 * library's threads, so it must be thread-safe. Messages past the options' log_level are
 * dropped before formatting.
 */
typedef void (*pager_log_fn)(void *opaque, int level, const char *msg);

/* ---- Connection setup (both ends) ---- */

#define PAGER_MAX_TOKEN 128u

/*
 * What both ends of a migration bring to its handshake. The session token admits the right
 * peer only: each end's hello carries it and each end checks the other's, in constant time.
 * It travels in the clear (it keeps strangers and misdirected peers out; it is not
 * encryption: on an untrusted network run the migration over a secure tunnel).
 */
struct pager_handshake {
	/* sizeof(struct pager_handshake) as the caller was built, as in pager_options. */
	uint32_t size;
	/* The token both ends were given (NULL and 0: none; then the peer must send none). */
	const void *token;
	uint32_t token_len; /* at most PAGER_MAX_TOKEN */
	/* Bound on each message of the handshake: a hello, the layout (default 10000). */
	int timeout_ms;
	/*
	 * The receiver of a layout refuses one of more bytes than this, before it allocates
	 * anything for it (0, the default: this host's RAM).
	 */
	uint64_t max_memory;
	/*
	 * The session. A new one: 0, and the connecting side picks a random id, the accepting
	 * side learns it (a non-zero id there admits that session only); set on return. To
	 * resume (pager_resume(), pager_source_resume()...): the id of the session.
	 */
	uint64_t session_id;
	/* Where the connections refused at admission are told of (as in pager_options). */
	pager_log_fn log_fn;
	void *log_opaque;
	int log_level;
};

/* Defaults into a struct of `size` bytes; pager_handshake_init() passes the caller's sizeof. */
PAGER_API void pager_handshake_defaults(struct pager_handshake *hs, size_t size);
#define pager_handshake_init(hs) pager_handshake_defaults((hs), sizeof(*(hs)))

/*
 * The handshake on a migration's two sockets: hello on both, then the memory layout from the
 * source on the demand socket. The side that opened the connections (`connected`) names each
 * socket's channel in its hello and speaks first; the accepting side learns the channels from
 * those hellos and swaps *demand_fd and *push_fd into place if they came the other way round.
 * A mismatch (magic, version, page size, token, session) or a message that does not come
 * within hs->timeout_ms is an error on both ends: the side that sees it sends an Error
 * message saying why. After the handshake the owner may exchange its own messages on the
 * demand socket (a VMM sends vCPU state) before serving pages. hs->session_id is set: keep it
 * to resume the session after a lost connection (hs NULL: the defaults, no token, any
 * session). 0, or -errno with the reason in err.
 *
 * One connection for both channels (protocol v5; since libpager 1.3): the opening side passes
 * *push_fd -1 and its one socket as *demand_fd; an accepting side given *push_fd -1 expects
 * exactly that. Demanded pages may then wait behind pushed ones in the one stream: two
 * connections are the default for that reason.
 *
 * An accepting side should rather take its connections with pager_accept_session(), which
 * refuses strangers without giving up the migration's place.
 */
PAGER_API int pager_handshake_source(int *demand_fd, int *push_fd, bool connected,
				     struct pager_handshake *hs, const struct pager_layout *layout,
				     char *err, size_t err_len);
PAGER_API int pager_handshake_dest(int *demand_fd, int *push_fd, bool connected,
				   struct pager_handshake *hs, struct pager_layout *layout,
				   char *err, size_t err_len);

/*
 * Admission of the right peer on a listening socket: accepts connections until a pair of
 * them forms one new session, or until timeout_ms (-1: forever) has passed. Each connection
 * must send its hello within hs->timeout_ms and the hello must be right (protocol, page size,
 * token; hs->session_id if not 0); a connection that does not (a stranger: silent, not this
 * protocol, no or the wrong token) is refused with an Error frame naming why and closed, and
 * the wait goes on. Connections are read side by side, so a silent stranger does not delay
 * the real peer. The pair is answered; connections still pending then are refused (BUSY).
 * 0 with both sockets (channels in place; *push_fd -1 for a session of one connection, v5)
 * and hs->session_id set; -ETIMEDOUT; or -errno with
 * the reason in err. Connections taken before timeout_ms go on to their own deadlines, so it
 * may return up to twice hs->timeout_ms past it. Then the layout: pager_send_layout() or
 * pager_receive_layout().
 */
PAGER_API int pager_accept_session(int listen_fd, struct pager_handshake *hs, int *demand_fd,
				   int *push_fd, int timeout_ms, char *err, size_t err_len);
/* The memory layout, after the hellos: sent by the source, received by the destination. */
PAGER_API int pager_send_layout(int demand_fd, const struct pager_handshake *hs,
				const struct pager_layout *layout, char *err, size_t err_len);
/*
 * Refused (an Error frame to the source, LAYOUT, and -E2BIG or -EINVAL here): a layout that
 * breaks the protocol's rules, or of more bytes than hs->max_memory.
 */
PAGER_API int pager_receive_layout(int demand_fd, const struct pager_handshake *hs,
				   struct pager_layout *layout, char *err, size_t err_len);

/* ---- Destination: the pager ---- */

struct pager;

/*
 * Called right before pages [first_page, first_page+n_pages) of a region are installed:
 * `data` is what will be installed (NULL for zero pages). It sees each page once, before any
 * thread can see the page; a VMM digests guest memory as received with it. It runs on the
 * pager's listener thread (demand answers) or its push receiver thread (pushed pages), both at
 * once for different pages, so it must be thread-safe across pages. Keep it short: it runs on
 * the fault path. (A page found already populated by someone else, which the pager warns
 * about, is shown once more as it is.)
 */
typedef void (*pager_install_fn)(void *opaque, uint32_t region, uint64_t first_page,
				 uint64_t n_pages, const void *data);

/*
 * Called once for each fault the listener reads, before it asks for the page: the page's
 * region and index (in a hugetlb region the base page touched where the kernel says, Linux
 * 5.18, else the first of its huge page), and the kernel id of the thread that faulted (the caller of the syscall or
 * ioctl when the kernel itself touched the page). A VMM attributes faults to what its threads
 * were doing (a restore ioctl, a vCPU's first KVM_RUN) with it. It runs on the listener
 * thread, on the fault path: keep it short, and never wait in it on a guest page.
 */
typedef void (*pager_fault_fn)(void *opaque, uint32_t region, uint64_t page, pid_t tid);

struct pager_options {
	/*
	 * sizeof(struct pager_options) as the caller was built, set by pager_options_init(). A
	 * library newer than the caller gives the fields past it their defaults; an older one
	 * refuses (-E2BIG) fields it does not know unless they are zero.
	 */
	uint32_t size;
	/* CPU for the listener thread; -1 leaves placement to the scheduler. */
	int listener_cpu;
	/* A silent source is declared dead after about this long (0: kernel defaults). */
	unsigned int dead_peer_ms;
	pager_install_fn on_install;
	void *on_install_opaque;
	/*
	 * Leave pushed pages in the socket until pager_release_push(): while a VMM restores vCPU
	 * state, the faults KVM raises inside the restore ioctls are on the downtime's critical
	 * path, and the listener serves them with nothing else to do.
	 */
	bool hold_push;
	/* Where messages go (NULL: stderr) and the most verbose level kept (default warnings). */
	pager_log_fn log_fn;
	void *log_opaque;
	int log_level;
	/*
	 * Recovery. A connection lost after pager_start() (closed, reset, silent, or a damaged
	 * stream) is not a failure: the pager waits, disconnected, with every fault blocked, for
	 * the owner to hand it new connections (pager_resume()). After reconnect_timeout_ms
	 * without one it fails, naming the lost connection (default 30000; 0: fail at once).
	 */
	unsigned int reconnect_timeout_ms;
	/* A demand request unanswered this long is sent again (default 2000). */
	unsigned int request_timeout_ms;
	/*
	 * With requests outstanding and nothing at all received for this long, the connection
	 * counts as lost (a black-holed path keeps TCP alive but delivers nothing; default 5000).
	 */
	unsigned int silence_timeout_ms;
	/*
	 * At completion, the owner's digest of every page as installed (e.g. from on_install),
	 * sent in the Complete message so that the source can confirm it. NULL: none.
	 */
	bool (*completion_digest)(void *opaque, uint64_t *digest);
	void *completion_digest_opaque;
	/*
	 * Nice values of the pager's two threads. The listener (faults, requests, demand answers)
	 * defaults to -5, above the threads it serves: a woken listener must not wait behind a
	 * busy vCPU. The push receiver (pushed pages) defaults to 0, beside the vCPUs: above them
	 * it delays their wake-ups on a shared CPU (p99 2x with it at -5), below them they starve
	 * the push and fault more (at 10: 1.6x the time to every page of 256 MiB). Below 0 needs
	 * CAP_SYS_NICE (or RLIMIT_NICE); without it the thread keeps the caller's priority, said at
	 * the info level. 0 leaves a thread as it is.
	 */
	int listener_nice;
	int push_nice;
	/* Told of every fault (see pager_fault_fn); NULL: nobody. */
	pager_fault_fn on_fault;
	void *on_fault_opaque;
	/*
	 * How pushed pages of private anonymous regions are installed. false (the default):
	 * received into a buffer that stays mapped, and copied into place (UFFDIO_COPY). true:
	 * each payload received page aligned into pages of its own, which UFFDIO_MOVE then moves
	 * into place (no copy, but fresh receive pages for every run: slower on the hosts
	 * measured, docs/benchmarks.md). Needs UFFD_FEATURE_MOVE (Linux 6.8): pager_create()
	 * fails with -EOPNOTSUPP without it. memfd and hugetlb regions, demand answers, and the
	 * pushed pages of a session on one connection (the listener installs those) are copied
	 * either way. Since libpager 1.3.
	 */
	bool install_move;
};

/* Defaults into a struct of `size` bytes; pager_options_init() passes the caller's sizeof. */
PAGER_API void pager_options_defaults(struct pager_options *opts, size_t size);
#define pager_options_init(opts) pager_options_defaults((opts), sizeof(*(opts)))
/* opts NULL: the defaults. -EINVAL: opts->size too small; -E2BIG: unknown fields set. */
PAGER_API int pager_create(const struct pager_options *opts, struct pager **out);

/*
 * Registers [addr, addr+size) in userfaultfd MISSING mode as region `id` of the layout.
 * The memory must be private anonymous, page aligned, and not yet touched (-EEXIST if a page
 * is already resident: it would never be fetched). Must precede pager_start().
 */
PAGER_API int pager_add_region(struct pager *p, uint32_t id, void *addr, uint64_t size);

/*
 * Registers shared memory of a memfd (shmem) as region `id`: [addr, addr+size) is the
 * caller's MAP_SHARED mapping of fd at fd_offset, not yet touched, its file range not yet
 * allocated (-EEXIST otherwise). Registered MISSING and MINOR: the pager writes each page into
 * the file through a second mapping of its own, then maps it at addr with UFFDIO_CONTINUE, so
 * a thread touching it waits until the page is whole. The pager keeps its own copy of fd.
 * -EINVAL if addr is not one shared mapping of fd at fd_offset covering size bytes, or the
 * file is shorter; -EOPNOTSUPP without userfaultfd minor faults on shmem (Linux 5.14). Must
 * precede pager_start().
 */
PAGER_API int pager_add_region_memfd(struct pager *p, uint32_t id, void *addr, uint64_t size,
				     int fd, uint64_t fd_offset);

/*
 * Registers private hugetlb memory of 2 MiB pages (MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
 * or a private mapping of a hugetlbfs file) as region `id`: addr and size 2 MiB aligned, not
 * yet touched. Registered MISSING; each 2 MiB page is faulted, requested and installed whole
 * (one UFFDIO_COPY), so the source must serve the region in 2 MiB pages too
 * (pager_source_add_region_hugetlb(), layout backing PAGER_BACKING_HUGETLB). Pre-copy,
 * preloads and discards cover whole 2 MiB pages. -EINVAL if the memory is not such a mapping
 * (the reason in the log). Must precede pager_start(). Since libpager 1.2.
 */
PAGER_API int pager_add_region_hugetlb(struct pager *p, uint32_t id, void *addr, uint64_t size);

/*
 * Takes ownership of both sockets and starts the listener thread. push_fd -1: demand_fd is
 * the session's only connection (v5): the listener installs the pushed pages that come on it
 * too, and hold_push has no effect.
 */
PAGER_API int pager_start(struct pager *p, int demand_fd, int push_fd);

/*
 * Pre-copy, before pager_start(): installs len bytes of pages at offset of a region (data NULL:
 * zero pages), and drops pages installed so that they are fetched again (the guest wrote them
 * on the source after they were sent). Each is -EINVAL once the pager started.
 */
PAGER_API int pager_preload(struct pager *p, uint32_t region, uint64_t offset, const void *data,
			    uint64_t len);
PAGER_API int pager_discard(struct pager *p, uint32_t region, uint64_t offset, uint64_t len);

/* What the source says at the switch-over. */
struct pager_switchover {
	uint64_t memory_digest; /* the source's digest of every page (the owner's to compare) */
	uint64_t precopy_pages; /* pages pre-copied and still valid: equal on both ends */
	/* The source owner's digest of what it sends next (a VMM: its state), the owner's to check. */
	uint64_t state_digest;
};

/*
 * Pre-copy, before pager_start(): receives the source's pre-copy stream on the demand socket
 * (pages installed with pager_preload(), discards applied) up to its Switchover message, the
 * end of pre-copy (sent with or without pages before it). 0 with *sw filled; or -errno with the
 * reason in err: something refused (an Error frame tells the source the same words), the
 * source's own Error (-ECONNABORTED, "the source failed: ..."), no frame within timeout_ms.
 */
PAGER_API int pager_precopy_receive(struct pager *p, int fd, int timeout_ms,
				    struct pager_switchover *sw, char *err, size_t err_len);

/* Starts installing pushed pages (see pager_options.hold_push). Any thread, any time. */
PAGER_API void pager_release_push(struct pager *p);

/* Moved forward only: idle -> running (pager_start) -> complete | failed. */
enum pager_state {
	PAGER_STATE_IDLE,
	PAGER_STATE_RUNNING,
	PAGER_STATE_COMPLETE, /* every page present */
	PAGER_STATE_FAILED,   /* see pager_error() */
	/* Running, but the connection to the source was lost: waiting for pager_resume(). */
	PAGER_STATE_DISCONNECTED,
};

/* Where the pager is now, without waiting. Any thread, any time. */
PAGER_API enum pager_state pager_state(struct pager *p);

/*
 * Waits until every page is present (0), the pager failed (the error, see pager_error()),
 * or timeout_ms passed (-ETIMEDOUT; -1 waits forever). After a failure, threads blocked on
 * missing pages stay blocked: they are never given wrong or zero data.
 */
PAGER_API int pager_wait(struct pager *p, int timeout_ms);

/*
 * While disconnected: resumes the session hs->session_id on two new sockets, or one with
 * push_fd -1 (v5) (the owner accepted or dialled them; ownership passes to the pager on
 * success). A source may see the
 * loss before the pager does: while running, this first waits up to hs->timeout_ms for the
 * pager to notice it. The hellos name the session with the resume flag (and the token); the
 * pager sends which pages it has, then the listener goes on, sending every outstanding
 * request again. -EBUSY when not disconnected; -errno with the reason in err (the sockets
 * are the caller's again then).
 */
PAGER_API int pager_resume(struct pager *p, int demand_fd, int push_fd, bool connected,
			   const struct pager_handshake *hs, char *err, size_t err_len);
/*
 * pager_resume() on the next pair of connections to listen_fd that resumes hs->session_id
 * (the source redials), admitted as pager_accept_session() admits: strangers, new sessions
 * and other sessions are refused and closed, and the wait goes on, up to timeout_ms (and as
 * pager_accept_session() past it); it ends early (-ECANCELED) once the pager is complete or
 * failed. On failure call it again while the pager stays disconnected.
 */
PAGER_API int pager_accept_resume(struct pager *p, int listen_fd,
				  const struct pager_handshake *hs, int timeout_ms, char *err,
				  size_t err_len);
/*
 * Complete, and the source knows it: it acknowledged the Complete message, on the session's
 * connection or, when that was lost with the Complete in flight, on a resumed one (a resume of
 * a complete pager only tells the source so). An owner that exits before this leaves a source
 * that cannot claim success: wait for it, within the source's reconnect time.
 */
PAGER_API bool pager_completion_confirmed(struct pager *p);
/* Why the connection was lost last (empty if never). */
PAGER_API const char *pager_disconnect_reason(struct pager *p);
/* The reason for the failure, a sentence naming the cause and the pages still missing. */
PAGER_API const char *pager_error(struct pager *p);

PAGER_API bool pager_page_present(const struct pager *p, const void *addr);
PAGER_API uint64_t pager_pages_missing(const struct pager *p);

/* A thread waiting on a missing page (for watchdogs). */
struct pager_wait_info {
	void *addr;      /* the page */
	uint32_t region;
	uint64_t offset; /* of the page in its region */
	pid_t tid;       /* the waiting thread (the caller of the syscall or ioctl that faulted) */
	uint64_t age_ns; /* how long it has waited */
};

/* The longest-waiting fault the listener knows of: 1 (filled), 0 (none), or -errno. */
PAGER_API int pager_oldest_wait(struct pager *p, struct pager_wait_info *out);
/*
 * Before pager_start() nobody reads the userfaultfd: this takes one pending fault off it, for a
 * watchdog to name the page a blocked thread waits for. It consumes the event, so call it only
 * to report a fatal ordering error. 1 (filled, age_ns 0), 0 (none pending), -EBUSY if started.
 */
PAGER_API int pager_take_unserved_fault(struct pager *p, struct pager_wait_info *out);

#define PAGER_MAX_THREAD_STATS 64u

struct pager_thread_stats {
	pid_t tid;
	uint64_t faults;
	uint64_t blocked_ns; /* sum of this thread's fault waits */
};

struct pager_stats {
	uint64_t pages_total;
	uint64_t pages_present;
	/* How each page got here; the four add up to pages_present. */
	uint64_t pages_demand;  /* data pages answering a request */
	uint64_t pages_push;    /* data pages from the background push */
	uint64_t pages_zero;    /* installed as the zero page, from either stream */
	uint64_t pages_precopy; /* installed before the switch-over and still valid */
	uint64_t pages_discarded; /* pre-copied, then dropped as written again on the source */
	uint64_t pages_duplicate; /* arrived when already present: a push/demand race, dropped */
	uint64_t bytes_received;  /* page payload bytes */
	uint64_t faults;          /* fault events read from userfaultfd */
	uint64_t faults_coalesced; /* faults on a page already requested: no second request */
	uint64_t faults_present;   /* faults on a page already installed: woken at once */
	uint64_t requests_sent;
	uint64_t install_retries; /* EAGAIN from an install, retried */
	/* Fault service latency, from reading the fault to waking its thread. */
	uint64_t latency_count;
	uint64_t latency_p50_ns, latency_p90_ns, latency_p99_ns, latency_p999_ns, latency_max_ns;
	uint64_t latency_mean_ns;
	uint64_t duration_ns; /* pager_start() to the last page (or to now) */
	uint32_t n_threads;
	struct pager_thread_stats threads[PAGER_MAX_THREAD_STATS];
	uint64_t threads_other_faults; /* faults of threads past the table */
	/* Recovery and integrity. */
	uint64_t reconnects;        /* sessions resumed on new connections */
	uint64_t disconnected_ns;   /* time spent without a connection */
	uint64_t pages_rerequested; /* requests sent again (timeout, reconnect, damaged page) */
	uint64_t pages_corrupt;     /* page runs whose checksum did not match: not installed */
};

/* A consistent snapshot; safe from any thread at any time. */
PAGER_API int pager_get_stats(struct pager *p, struct pager_stats *out);
PAGER_API void pager_stats_write_json(const struct pager_stats *s, FILE *out);
PAGER_API void pager_stats_write_summary(const struct pager_stats *s, FILE *out);

/*
 * Stops the listener and releases everything. If pages are still missing, the regions are made
 * inaccessible first, so a thread still blocked on one gets SIGSEGV (or its syscall EFAULT)
 * instead of a zero page.
 */
PAGER_API void pager_destroy(struct pager *p);

/* ---- Source: the page server ---- */

struct pager_source;

struct pager_source_options {
	uint32_t size;            /* as in pager_options: set by pager_source_options_init() */
	bool push;                /* background push of every page not yet sent */
	uint32_t push_run_pages;  /* pages per push message, 1..64 (default 64) */
	uint32_t prepage_window;  /* pages after a demanded page pushed next (0: no pre-paging) */
	int demand_cpu, push_cpu; /* thread placement; -1: scheduler's choice */
	int io_timeout_ms;        /* a stalled destination fails the send after this long */
	int push_nice;            /* nice value of the push thread (default 10: demand first) */
	pager_log_fn log_fn;      /* as in pager_options */
	void *log_opaque;
	int log_level;
};

PAGER_API void pager_source_options_defaults(struct pager_source_options *opts, size_t size);
#define pager_source_options_init(opts) pager_source_options_defaults((opts), sizeof(*(opts)))
/* As pager_create(): -EINVAL or -E2BIG for options of a size this library cannot take. */
PAGER_API int pager_source_create(const struct pager_source_options *opts,
				  struct pager_source **out);
/* Serves [addr, addr+size) as region `id`; the caller keeps the memory until serve returns. */
PAGER_API int pager_source_add_region(struct pager_source *src, uint32_t id, uint64_t gpa,
				      const void *addr, uint64_t size);
/*
 * The same for a region the destination holds in hugetlb memory (pager_add_region_hugetlb()):
 * gpa and size 2 MiB aligned; its pages go in whole 2 MiB pages (one request, one frame, one
 * install each), and pager_source_layout() says PAGER_BACKING_HUGETLB. The source's own memory
 * may be of any kind. Since libpager 1.2.
 */
PAGER_API int pager_source_add_region_hugetlb(struct pager_source *src, uint32_t id,
					      uint64_t gpa, const void *addr, uint64_t size);
PAGER_API void pager_source_layout(const struct pager_source *src, struct pager_layout *layout);

/*
 * Pre-copy, before pager_source_serve(), while the guest still runs: sends the pages of a
 * region set in bitmap (NULL: all) on fd, the demand socket. At the switch-over,
 * pager_source_discard() tells the destination which pages it has that bitmap marks as
 * written since, and leaves them for the push and demand to send again.
 */
PAGER_API int pager_source_precopy(struct pager_source *src, int fd, uint32_t region,
				   const uint64_t *bitmap, uint64_t *pages_sent);
PAGER_API int pager_source_discard(struct pager_source *src, int fd, uint32_t region,
				   const uint64_t *bitmap, uint64_t *pages_discarded);
/* Distinct pages the destination holds from pre-copy (sent and not discarded since). */
PAGER_API uint64_t pager_source_pages_held(const struct pager_source *src);
/*
 * Ends pre-copy (or stands for it when there was none): the Switchover message on fd, with
 * the owner's memory_digest, the pages the destination holds, and the owner's digest of
 * what it sends next (state_digest: a VMM's state frames, encoded before this call).
 */
PAGER_API int pager_source_switchover(struct pager_source *src, int fd, uint64_t memory_digest,
				      uint64_t state_digest, int timeout_ms);

/*
 * Serves demand requests and pushes until the destination reports completion (0), or fails
 * (the error; pager_source_error() says why): -ENOTCONN when the connection was lost (closed,
 * reset, timed out, or the destination found the stream damaged), which
 * pager_source_resume() can recover; anything else is final. Both sockets stay the caller's.
 * push_fd -1: demand_fd is the only connection (v5): the push goes on it, a whole frame at a
 * time between the demand answers.
 */
PAGER_API int pager_source_serve(struct pager_source *src, int demand_fd, int push_fd);
/*
 * After pager_source_serve() returned -ENOTCONN (the connection was lost, not refused): on two
 * new sockets (or one, *push_fd -1, as in pager_handshake_source()), the hellos resuming hs->session_id, then the destination's list of the pages
 * it has; pages it lacks are sent again, the rest never. Then call pager_source_serve()
 * again. 0, or -errno with the reason in err.
 */
PAGER_API int pager_source_resume(struct pager_source *src, int *demand_fd, int *push_fd,
				  bool connected, const struct pager_handshake *hs, char *err,
				  size_t err_len);
/*
 * Redials the destination at addr (two connections, or one when the last pager_source_serve()
 * had one) and
 * resumes, every 200 ms until
 * timeout_ms has passed. 0 with the new sockets in *demand_fd and *push_fd; or the last
 * attempt's error, with its reason in err.
 */
PAGER_API int pager_source_redial(struct pager_source *src, const struct sockaddr *addr,
				  socklen_t addr_len, const struct pager_handshake *hs,
				  int timeout_ms, int *demand_fd, int *push_fd, char *err,
				  size_t err_len);
PAGER_API const char *pager_source_error(struct pager_source *src);

struct pager_source_stats {
	uint64_t requests;            /* PageRequest messages */
	uint64_t pages_demand;        /* pages sent answering requests */
	uint64_t pages_push;          /* pages sent by the push */
	uint64_t pages_zero;          /* of those, sent as zero pages */
	uint64_t duplicate_requests;  /* pages requested more than once */
	uint64_t prepage_jumps;       /* times the push moved to a demanded spot */
	uint64_t pages_precopy;       /* pages sent in pre-copy rounds */
	uint64_t pages_discarded;     /* of those, dropped again at the switch-over */
	uint64_t bytes_sent;
	uint64_t reconnects;            /* sessions resumed (pager_source_resume()) */
	uint64_t pages_resent;          /* pages a lost connection made the source send again */
	bool dest_digest_valid;         /* the destination's Complete carried its digest: */
	uint64_t dest_digest;           /* of every page as it installed them */
};
PAGER_API void pager_source_get_stats(struct pager_source *src, struct pager_source_stats *out);
PAGER_API void pager_source_stats_write_json(const struct pager_source_stats *s, FILE *out);
PAGER_API void pager_source_destroy(struct pager_source *src);

#ifdef __cplusplus
}
#endif

#endif
