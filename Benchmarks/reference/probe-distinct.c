/*
 * The C reference for Benchmarks/compare.sh: the least a probe-request counter must do,
 * written plainly in C, so footfall's throughput has a yardstick measured on the same
 * machine, the same file and in the same rounds (not a figure remembered from elsewhere).
 *
 * Per record: libpcap's pcap_next_ex, skip the radiotap header (DLT 127) or none (DLT 105),
 * keep management frames of subtype 4 (probe request) whose frame is long enough, hash the
 * source address with SipHash-2-4 under a random 128-bit key, and insert the hash into an
 * open-addressing table of the current hour (cleared when the hour changes). Prints the
 * frames read, probe requests, and the sum over hours of distinct hashed sources.
 *
 *   cc -O2 -o probe-distinct probe-distinct.c -lpcap
 *   ./probe-distinct capture.pcap
 *
 * No allocation per frame; the table is sized once (2^20 slots) for a busy hour.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

#define SIPROUND                                                                  \
    do {                                                                          \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                 \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                    \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                    \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                 \
    } while (0)

/* SipHash-2-4 of a 6-byte message (one final block: 6 bytes, length 6 in the top byte). */
static uint64_t siphash_mac(const uint8_t *m, uint64_t k0, uint64_t k1) {
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint64_t b = ((uint64_t)6 << 56) | (uint64_t)m[0] | (uint64_t)m[1] << 8 |
                 (uint64_t)m[2] << 16 | (uint64_t)m[3] << 24 | (uint64_t)m[4] << 32 |
                 (uint64_t)m[5] << 40;
    v3 ^= b;
    SIPROUND; SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND; SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

#define TABLE_BITS 20
#define TABLE_SIZE (1u << TABLE_BITS)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s capture.pcap\n", argv[0]);
        return 64;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[1], errbuf);
    if (!p) {
        fprintf(stderr, "%s\n", errbuf);
        return 66;
    }
    int dlt = pcap_datalink(p);
    if (dlt != DLT_IEEE802_11_RADIO && dlt != DLT_IEEE802_11) {
        fprintf(stderr, "link type %d is neither radiotap nor 802.11\n", dlt);
        return 65;
    }
    uint64_t key[2];
    if (getrandom(key, sizeof key, 0) != sizeof key) return 71;
    uint64_t *table = calloc(TABLE_SIZE, sizeof *table); /* 0 = empty slot */
    uint32_t *used = malloc(TABLE_SIZE * sizeof *used);  /* slots to clear at the hour */
    if (!table || !used) return 71;
    uint32_t nused = 0;

    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t frames = 0, probes = 0, distinct = 0;
    long hour = -1;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        frames++;
        uint32_t off = 0, len = h->caplen;
        if (dlt == DLT_IEEE802_11_RADIO) {
            if (len < 8) continue;
            off = (uint32_t)d[2] | (uint32_t)d[3] << 8;
        }
        if (off + 24 > len) continue;
        const uint8_t *f = d + off;
        if ((f[0] & 0xfc) != 0x40) continue; /* type 0 (management), subtype 4 */
        probes++;
        long thisHour = (long)h->ts.tv_sec / 3600;
        if (thisHour != hour) {
            for (uint32_t i = 0; i < nused; i++) table[used[i]] = 0;
            nused = 0;
            hour = thisHour;
        }
        uint64_t x = siphash_mac(f + 10, key[0], key[1]) | 1; /* never 0, the empty mark */
        uint32_t i = (uint32_t)(x >> (64 - TABLE_BITS));
        while (table[i] != 0 && table[i] != x) i = (i + 1) & (TABLE_SIZE - 1);
        if (table[i] == 0 && nused < TABLE_SIZE / 2) {
            table[i] = x;
            used[nused++] = i;
            distinct++;
        }
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "%s\n", pcap_geterr(p));
        return 65;
    }
    printf("frames %llu probe_requests %llu hourly_distinct_sum %llu\n",
           (unsigned long long)frames, (unsigned long long)probes, (unsigned long long)distinct);
    pcap_close(p);
    free(table);
    free(used);
    return 0;
}
