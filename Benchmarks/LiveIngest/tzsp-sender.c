/*
 * tzsp-sender: offers TZSP-wrapped 802.11 probe requests over UDP at a fixed rate, for
 * Benchmarks/live-ingest.sh.
 *
 *   tzsp-sender RATE SECONDS [PORT] [SENDER] [DEVICES]
 *
 * Sends RATE datagrams a second for SECONDS from SENDER (an address of this machine, default
 * 127.0.0.2) to 127.0.0.1:PORT (default 37008), in batches of up to 64 with sendmmsg(2),
 * paced against CLOCK_MONOTONIC so the achieved rate is the asked one unless the machine
 * cannot keep up (it then sends as fast as it can and says so). The frames are probe
 * requests from DEVICES (default 2000) globally administered test addresses (00:1B:63:…),
 * round robin, with the TZSP signal tag at -45 dBm — what an access point streams.
 *
 * It also binds a socket to PORT with the smallest receive buffer and never reads it:
 * footfall captures the stream rather than receiving it, and without a socket on the port
 * every datagram on loopback would cost an ICMP port-unreachable reply.
 *
 * Prints one line: "sent=N seconds=S rate=R".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define FRAME_LEN (8 + 24 + 2 + 6)

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* TZSP v1, type 0 (received), encapsulation 18 (802.11), tag 10 signal -45 dBm, tag 1 end;
 * then a probe request: FC 0x40, duration, DA broadcast, SA, BSSID broadcast, sequence,
 * SSID element (empty), Supported Rates element (4 rates). */
static void fill(uint8_t *d, uint64_t address, uint16_t sequence) {
    static const uint8_t head[8] = {1, 0, 0, 18, 10, 1, (uint8_t)-45, 1};
    memcpy(d, head, 8);
    uint8_t *f = d + 8;
    f[0] = 0x40; f[1] = 0; f[2] = 0; f[3] = 0;
    memset(f + 4, 0xFF, 6);
    for (int i = 0; i < 6; i++) f[10 + i] = (uint8_t)(address >> (8 * (5 - i)));
    memset(f + 16, 0xFF, 6);
    f[22] = (uint8_t)(sequence << 4); f[23] = (uint8_t)(sequence >> 4);
    static const uint8_t elements[8] = {0x00, 0x00, 0x01, 0x04, 0x02, 0x04, 0x0B, 0x16};
    memcpy(f + 24, elements, 8);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s RATE SECONDS [PORT] [SENDER] [DEVICES]\n", argv[0]);
        return 64;
    }
    double rate = atof(argv[1]), seconds = atof(argv[2]);
    int port = argc > 3 ? atoi(argv[3]) : 37008;
    const char *sender = argc > 4 ? argv[4] : "127.0.0.2";
    long devices = argc > 5 ? atol(argv[5]) : 2000;
    if (rate <= 0 || seconds <= 0 || port <= 0 || port > 65535 || devices <= 0) {
        fprintf(stderr, "tzsp-sender: RATE, SECONDS, PORT and DEVICES must be positive\n");
        return 64;
    }

    int sink = socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1, smallest = 1;
    setsockopt(sink, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &smallest, sizeof smallest);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (bind(sink, (struct sockaddr *)&to, sizeof to) != 0) {
        fprintf(stderr, "tzsp-sender: note: cannot bind the sink on port %d (%s); another program owns it\n", port, strerror(errno));
    }

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, sender, &from.sin_addr) != 1 || bind(s, (struct sockaddr *)&from, sizeof from) != 0) {
        fprintf(stderr, "tzsp-sender: cannot send from %s (%s)\n", sender, strerror(errno));
        return 1;
    }
    int big = 8 << 20;
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);

    static uint8_t data[BATCH][FRAME_LEN];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = data[i];
        iov[i].iov_len = FRAME_LEN;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &to;
        msgs[i].msg_hdr.msg_namelen = sizeof to;
    }

    uint64_t total = (uint64_t)(rate * seconds), sent = 0;
    double start = now_seconds();
    while (sent < total) {
        double elapsed = now_seconds() - start;
        uint64_t due = (uint64_t)(elapsed * rate);
        if (due > total) due = total;
        if (due <= sent) {
            /* Ahead of schedule: sleep until the next batch is due (at least 50 µs). */
            double wait = ((double)(sent + BATCH < total ? BATCH : total - sent) / rate) - (elapsed - (double)sent / rate);
            struct timespec t = {0, (long)(wait > 50e-6 ? wait * 1e9 : 50000)};
            nanosleep(&t, NULL);
            continue;
        }
        int n = (int)(due - sent < BATCH ? due - sent : BATCH);
        for (int i = 0; i < n; i++) {
            uint64_t k = sent + (uint64_t)i;
            fill(data[i], 0x001B63000010ULL + (k % (uint64_t)devices) * 0x0101ULL, (uint16_t)(k / (uint64_t)devices));
        }
        int done = sendmmsg(s, msgs, (unsigned)n, 0);
        if (done < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS) continue;
            fprintf(stderr, "tzsp-sender: sendmmsg: %s\n", strerror(errno));
            return 1;
        }
        sent += (uint64_t)done;
    }
    double took = now_seconds() - start;
    printf("sent=%llu seconds=%.3f rate=%.0f\n", (unsigned long long)sent, took, (double)sent / took);
    close(s);
    close(sink);
    return 0;
}
