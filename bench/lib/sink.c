/*
    The benchmark's fast sink, in C: the peer the publish figures measure the clients against when a C compiler
    is on the machine (bench/lib/peers.ts builds it; otherwise the Node sink, sink.ts, serves). It speaks as much
    MQTT 3.1.1 as a publishing client needs: CONNACK for every CONNECT, PUBACK / PUBREC for every QoS 1 / QoS 2
    PUBLISH, PUBCOMP for every PUBREL, SUBACK granting what was asked, UNSUBACK, PINGRESP; a DISCONNECT or a
    malformed packet closes the connection. Answers are written once per received chunk, as the Node sink does.
    It does not send messages (the receive figures use the Node sink's "blast" topics).
    Prints "port <n>" once listening on 127.0.0.1; exits when its standard input closes.

        cc -O2 -o sink bench/lib/sink.c && ./sink
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (256 * 1024)

typedef struct Conn {
    int fd;
    unsigned char *in;      /* received bytes not yet parsed: in[0, inLen) */
    size_t inLen, inCap;
    unsigned char *out;     /* answers not yet written: out[outStart, outLen) */
    size_t outStart, outLen, outCap;
    int watchingOut;
} Conn;

static int ep;

static void *grow(void *p, size_t *cap, size_t need) {
    if (need <= *cap) {
        return p;
    }
    size_t n = *cap ? *cap : 4096;
    while (n < need) {
        n *= 2;
    }
    p = realloc(p, n);
    if (p == NULL) {
        perror("sink: realloc");
        exit(1);
    }
    *cap = n;
    return p;
}

static unsigned char *reserve(Conn *c, size_t n) {
    c->out = grow(c->out, &c->outCap, c->outLen + n);
    unsigned char *at = c->out + c->outLen;
    c->outLen += n;
    return at;
}

static void ack(Conn *c, unsigned char header, const unsigned char *id) {
    unsigned char *b = reserve(c, 4);
    b[0] = header;
    b[1] = 2;
    b[2] = id[0];
    b[3] = id[1];
}

static void closeConn(Conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

/* Answer one whole packet (header byte h, body of n bytes); 0 to go on, -1 to close */
static int packet(Conn *c, unsigned char h, const unsigned char *body, size_t n) {
    switch (h >> 4) {
    case 1: {
        unsigned char *b = reserve(c, 4);
        b[0] = 0x20; b[1] = 2; b[2] = 0; b[3] = 0;
        return 0;
    }
    case 3: {
        int qos = (h >> 1) & 3;
        if (qos == 0) {
            return 0;
        }
        if (n < 2) {
            return -1;
        }
        size_t at = 2 + (((size_t)body[0] << 8) | body[1]);
        if (at + 2 > n) {
            return -1;
        }
        ack(c, qos == 1 ? 0x40 : 0x50, body + at);
        return 0;
    }
    case 6:
        if (n < 2) return -1;
        ack(c, 0x70, body);
        return 0;
    case 8: {
        if (n < 2) return -1;
        /* Count the filters: each a 2-byte length, the filter, its options byte */
        size_t count = 0;
        for (size_t at = 2; at < n; count++) {
            if (at + 2 > n) return -1;
            at += 2 + (((size_t)body[at] << 8) | body[at + 1]) + 1;
            if (at > n) return -1;
        }
        if (count == 0 || count > 125) return -1;
        unsigned char *b = reserve(c, 4 + count);
        b[0] = 0x90; b[1] = (unsigned char)(2 + count); b[2] = body[0]; b[3] = body[1];
        size_t i = 0;
        for (size_t at = 2; at < n; i++) {
            at += 2 + (((size_t)body[at] << 8) | body[at + 1]);
            b[4 + i] = body[at++] & 3;
        }
        return 0;
    }
    case 10:
        if (n < 2) return -1;
        ack(c, 0xb0, body);
        return 0;
    case 12: {
        unsigned char *b = reserve(c, 2);
        b[0] = 0xd0; b[1] = 0;
        return 0;
    }
    case 4: case 5: case 7:
        return 0;
    default:
        return -1;
    }
}

/* Write what is pending; watch for room when the socket is full. 0, or -1 when the connection failed */
static int flush(Conn *c) {
    while (c->outStart < c->outLen) {
        ssize_t w = write(c->fd, c->out + c->outStart, c->outLen - c->outStart);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return -1;
            break;
        }
        c->outStart += (size_t)w;
    }
    if (c->outStart == c->outLen) {
        c->outStart = c->outLen = 0;
    }
    int want = c->outLen > 0;
    if (want != c->watchingOut) {
        struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->watchingOut = want;
    }
    return 0;
}

/* One read, every whole packet in it answered; 0, or -1 to close */
static int readable(Conn *c) {
    c->in = grow(c->in, &c->inCap, c->inLen + READ_SIZE);
    ssize_t r = read(c->fd, c->in + c->inLen, READ_SIZE);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        return -1;
    }
    if (r < 0) {
        return 0;
    }
    c->inLen += (size_t)r;
    size_t at = 0;
    for (;;) {
        /* Fixed header: the type byte, then the remaining length (1-4 bytes, 7 bits each) */
        if (at + 2 > c->inLen) break;
        size_t len = 0, i = 1;
        int shift = 0, whole = 0;
        while (at + i < c->inLen && i <= 4) {
            unsigned char b = c->in[at + i++];
            len |= (size_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80)) { whole = 1; break; }
        }
        if (!whole) {
            if (i > 4) return -1;
            break;
        }
        if (at + i + len > c->inLen) break;
        if (packet(c, c->in[at], c->in + at + i, len) < 0) return -1;
        at += i + len;
    }
    memmove(c->in, c->in + at, c->inLen - at);
    c->inLen -= at;
    return flush(c);
}

int main(void) {
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof addr;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 128) < 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
        perror("sink: listen");
        return 1;
    }
    ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    /* Standard input: its end (or error) stops the sink */
    static int stdinMark;
    struct epoll_event sev = { .events = EPOLLIN, .data.ptr = &stdinMark };
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev);
    printf("port %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[64];
    for (;;) {
        int n = epoll_wait(ep, events, 64, -1);
        if (n < 0 && errno != EINTR) {
            perror("sink: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == &stdinMark) {
                char b[256];
                if (read(0, b, sizeof b) <= 0) return 0;
            } else if (p == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    Conn *c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event cev = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
            } else {
                Conn *c = p;
                int fail = 0;
                if (events[i].events & EPOLLOUT) fail = flush(c) < 0;
                if (!fail && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) fail = readable(c) < 0;
                if (fail) closeConn(c);
            }
        }
    }
}
