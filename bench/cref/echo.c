// echo.c: a minimal single-threaded TCP echo server on liburing, the reference for
// "the limit" in bench/cmd/echobench. It does what the io_uring playbook says and nothing
// else: multishot accept, multishot recv into a provided-buffer ring (16 KiB x 1024, like
// uringnet's default), the echo sent straight from the received buffer (no copy), one send in
// flight per connection, and one io_uring_enter (submit and wait) per loop turn.
// Fallbacks: single-shot accept and recv when multishot is refused; a plain per-connection
// buffer when buffer rings are missing (before 5.19).
//
// Usage: echo -addr 127.0.0.1:9000
// Prints "listening on ADDR" once listening; on SIGINT or SIGTERM prints
// "stats accepted=N closed=N enters=N recvs=N bytes_in=N mode=..." and exits 0.
//
// Build: gcc -O2 -o echo echo.c -luring   (bench/internal/cref does this at run time)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUEUE_DEPTH 4096
#define BUF_SIZE 16384
#define BUF_COUNT 1024 /* a power of two */
#define BGID 0

enum { OP_ACCEPT = 1, OP_RECV, OP_SEND };

/* A piece of received data waiting to be echoed: a ring buffer (bid >= 0) or the
 * connection's own buffer in fallback mode (bid < 0). */
struct chunk {
	int bid;
	unsigned off, len;
};

struct conn {
	int open;
	int recv_armed;    /* a recv (multishot or not) is in flight */
	int send_inflight; /* one send at a time */
	int closing;       /* EOF or error seen: close once nothing is in flight */
	struct chunk *q;   /* FIFO of data to echo */
	unsigned qhead, qlen, qcap;
	char *own; /* fallback receive buffer (no buffer ring) */
};

static struct io_uring ring;
static struct conn *conns;
static int nconns;
static int listen_fd;
static char *bufs;
static struct io_uring_buf_ring *br;
static int use_bufring = 1, multishot_recv = 1, multishot_accept = 1;
static volatile sig_atomic_t stop;
static unsigned long long n_accepted, n_closed, n_enters, n_recvs, n_bytes_in;

static void on_signal(int sig) { (void)sig; stop = 1; }

static void die(const char *what, int err) {
	fprintf(stderr, "echo: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static inline uint64_t ud(int op, int fd) { return ((uint64_t)op << 32) | (uint32_t)fd; }

static struct io_uring_sqe *sqe_get(void) {
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	if (!sqe) {
		io_uring_submit(&ring);
		n_enters++;
		sqe = io_uring_get_sqe(&ring);
		if (!sqe)
			die("no SQE", EBUSY);
	}
	return sqe;
}

static void arm_accept(void) {
	struct io_uring_sqe *sqe = sqe_get();
	if (multishot_accept)
		io_uring_prep_multishot_accept(sqe, listen_fd, NULL, NULL, 0);
	else
		io_uring_prep_accept(sqe, listen_fd, NULL, NULL, 0);
	io_uring_sqe_set_data64(sqe, ud(OP_ACCEPT, listen_fd));
}

static void arm_recv(int fd) {
	struct conn *c = &conns[fd];
	struct io_uring_sqe *sqe = sqe_get();
	if (!use_bufring) {
		io_uring_prep_recv(sqe, fd, c->own, BUF_SIZE, 0);
	} else {
		if (multishot_recv)
			io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
		else
			io_uring_prep_recv(sqe, fd, NULL, BUF_SIZE, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	}
	io_uring_sqe_set_data64(sqe, ud(OP_RECV, fd));
	c->recv_armed = 1;
}

static void recycle(int bid) {
	if (bid < 0)
		return;
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, bid, io_uring_buf_ring_mask(BUF_COUNT), 0);
	io_uring_buf_ring_advance(br, 1);
}

static void maybe_close(int fd) {
	struct conn *c = &conns[fd];
	if (!c->closing || c->recv_armed || c->send_inflight)
		return;
	for (unsigned i = 0; i < c->qlen; i++)
		recycle(c->q[(c->qhead + i) % c->qcap].bid);
	c->qlen = 0;
	close(fd);
	c->open = 0;
	n_closed++;
}

static void start_send(int fd) {
	struct conn *c = &conns[fd];
	if (c->send_inflight || c->qlen == 0 || c->closing)
		return;
	struct chunk *k = &c->q[c->qhead];
	const char *p = k->bid >= 0 ? bufs + (size_t)k->bid * BUF_SIZE : c->own;
	struct io_uring_sqe *sqe = sqe_get();
	io_uring_prep_send(sqe, fd, p + k->off, k->len, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud(OP_SEND, fd));
	c->send_inflight = 1;
}

static void push(int fd, int bid, unsigned len) {
	struct conn *c = &conns[fd];
	if (c->qlen == c->qcap) {
		unsigned ncap = c->qcap ? c->qcap * 2 : 4;
		struct chunk *nq = malloc(ncap * sizeof *nq);
		if (!nq)
			die("malloc", ENOMEM);
		for (unsigned i = 0; i < c->qlen; i++)
			nq[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = nq;
		c->qcap = ncap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qlen) % c->qcap] = (struct chunk){.bid = bid, .off = 0, .len = len};
	c->qlen++;
}

static void on_accept(struct io_uring_cqe *cqe) {
	int fd = cqe->res;
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		if (fd == -EINVAL && multishot_accept) {
			multishot_accept = 0; /* kernel without multishot accept */
		}
		arm_accept();
	}
	if (fd < 0)
		return;
	if (fd >= nconns) {
		close(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct conn *c = &conns[fd];
	c->open = 1;
	c->closing = 0;
	c->send_inflight = 0;
	c->qhead = c->qlen = 0;
	if (!use_bufring && !c->own && !(c->own = malloc(BUF_SIZE)))
		die("malloc", ENOMEM);
	n_accepted++;
	arm_recv(fd);
}

static void on_recv(int fd, struct io_uring_cqe *cqe) {
	struct conn *c = &conns[fd];
	int more = (cqe->flags & IORING_CQE_F_MORE) != 0;
	if (!more)
		c->recv_armed = 0;
	if (cqe->res > 0) {
		int bid = -1;
		if (use_bufring)
			bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		n_recvs++;
		n_bytes_in += cqe->res;
		if (c->closing) {
			recycle(bid);
		} else {
			push(fd, bid, cqe->res);
			start_send(fd);
		}
		if (!more && !c->closing && use_bufring)
			arm_recv(fd); /* without a buffer ring, on_send re-arms once the buffer is free */
	} else if (cqe->res == -ENOBUFS) {
		if (!more && !c->closing)
			arm_recv(fd); /* buffers come back as sends complete */
	} else if (cqe->res == -EINVAL && multishot_recv && !more) {
		multishot_recv = 0; /* kernel without multishot recv */
		arm_recv(fd);
	} else {
		/* EOF or error: stop reading. A multishot recv that still says MORE ends soon. */
		c->closing = 1;
		if (more)
			shutdown(fd, SHUT_RDWR);
	}
	maybe_close(fd);
}

static void on_send(int fd, struct io_uring_cqe *cqe) {
	struct conn *c = &conns[fd];
	c->send_inflight = 0;
	if (cqe->res < 0) {
		if (!c->closing) {
			c->closing = 1;
			if (c->recv_armed)
				shutdown(fd, SHUT_RDWR);
		}
		maybe_close(fd);
		return;
	}
	struct chunk *k = &c->q[c->qhead];
	k->off += cqe->res;
	k->len -= cqe->res;
	if (k->len == 0) {
		int bid = k->bid;
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		if (use_bufring) {
			recycle(bid);
		} else if (!c->closing && !c->recv_armed) {
			arm_recv(fd); /* the own buffer is free again */
		}
	}
	start_send(fd);
	maybe_close(fd);
}

static int parse_addr(const char *s, struct sockaddr_in *sa) {
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || colon - s >= (long)sizeof host)
		return -1;
	memcpy(host, s, colon - s);
	host[colon - s] = 0;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(colon + 1));
	if (host[0] == 0)
		strcpy(host, "0.0.0.0");
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv) {
	const char *addr = "127.0.0.1:9000";
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-addr") || !strcmp(argv[i], "--addr")) && i + 1 < argc)
			addr = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fprintf(stderr, "usage: echo [-addr HOST:PORT]\n");
			return 0;
		}
	}
	const char *dis = getenv("CREF_DISABLE"); /* for tests: "multishot", "bufring" */
	if (dis && strstr(dis, "multishot"))
		multishot_accept = multishot_recv = 0;
	if (dis && strstr(dis, "bufring"))
		use_bufring = 0;

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	nconns = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? (int)rl.rlim_cur : 1 << 20;
	conns = calloc(nconns, sizeof *conns);
	if (!conns)
		die("calloc", ENOMEM);

	struct sockaddr_in sa;
	if (parse_addr(addr, &sa) < 0) {
		fprintf(stderr, "echo: bad -addr %s\n", addr);
		return 2;
	}
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listen_fd, 4096) < 0)
		die("listen", errno);
	socklen_t sl = sizeof sa;
	getsockname(listen_fd, (struct sockaddr *)&sa, &sl);

	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;
	int ret = io_uring_queue_init_params(QUEUE_DEPTH, &ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof p);
		p.flags = IORING_SETUP_SUBMIT_ALL;
		ret = io_uring_queue_init_params(QUEUE_DEPTH, &ring, &p);
	}
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof p);
		ret = io_uring_queue_init_params(QUEUE_DEPTH, &ring, &p);
	}
	if (ret < 0)
		die("io_uring_queue_init", ret);

	if (use_bufring) {
		size_t rsz = BUF_COUNT * sizeof(struct io_uring_buf);
		br = mmap(NULL, rsz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
		bufs = mmap(NULL, (size_t)BUF_SIZE * BUF_COUNT, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
		if (br == MAP_FAILED || bufs == MAP_FAILED)
			die("mmap", errno);
		struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)br, .ring_entries = BUF_COUNT, .bgid = BGID};
		if (io_uring_register_buf_ring(&ring, &reg, 0) < 0) {
			use_bufring = 0; /* before 5.19 */
			multishot_recv = 0;
		} else {
			io_uring_buf_ring_init(br);
			for (int i = 0; i < BUF_COUNT; i++)
				io_uring_buf_ring_add(br, bufs + (size_t)i * BUF_SIZE, BUF_SIZE, i, io_uring_buf_ring_mask(BUF_COUNT), i);
			io_uring_buf_ring_advance(br, BUF_COUNT);
		}
	}
	if (!use_bufring)
		multishot_recv = 0;

	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal; /* no SA_RESTART: io_uring_enter returns EINTR */
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	arm_accept();
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
	printf("listening on %s:%d\n", ip, ntohs(sa.sin_port));
	fflush(stdout);

	while (!stop) {
		ret = io_uring_submit_and_wait(&ring, 1);
		n_enters++;
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY && ret != -ETIME)
			die("io_uring_submit_and_wait", ret);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			uint64_t u = io_uring_cqe_get_data64(cqe);
			int op = (int)(u >> 32), fd = (int)(uint32_t)u;
			seen++;
			switch (op) {
			case OP_ACCEPT:
				on_accept(cqe);
				break;
			case OP_RECV:
				on_recv(fd, cqe);
				break;
			case OP_SEND:
				on_send(fd, cqe);
				break;
			}
		}
		io_uring_cq_advance(&ring, seen);
	}
	printf("stats accepted=%llu closed=%llu enters=%llu recvs=%llu bytes_in=%llu mode=%s\n", n_accepted, n_closed,
	       n_enters, n_recvs, n_bytes_in,
	       use_bufring ? (multishot_recv ? "multishot+bufring" : "recv+bufring") : "recv");
	fflush(stdout);
	return 0;
}
