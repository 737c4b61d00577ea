/* The network policy of wasi:sockets (src/wasi3/net_policy.c): allow-ip
 * CIDR blocks parsed and refused, addresses inside and outside them, the
 * default (nothing allowed) and inherit-network; and the public
 * whirl_wasi2_config_allow_ip refusing bad blocks with a message naming them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wasi3/net_policy.h"
#include "whirl/wasi2.h"

static int passed, failed;

#define CHECK(cond, ...)                                \
    do {                                                \
        if (cond) {                                     \
            passed++;                                   \
        } else {                                        \
            failed++;                                   \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

/* Whether policy `p` allows the textual address `ip`. */
static bool allows(const w3_net_policy_t *p, const char *ip)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(80)};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
    if (inet_pton(AF_INET, ip, &in.sin_addr) == 1)
        return w3_net_allows(p, (struct sockaddr *)&in);
    if (inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1)
        return w3_net_allows(p, (struct sockaddr *)&in6);
    printf("bad test address %s\n", ip);
    return false;
}

static void test_parse(void)
{
    static const char *const good[] = {"127.0.0.0/8", "10.1.2.3/8", "0.0.0.0/0", "1.2.3.4",
                                       "::1/128", "::/0", "fe80::/10", "2001:db8::1"};
    static const char *const bad[] = {"", "/8", "127.0.0.0/", "127.0.0.0/33", "::/129",
                                      "300.0.0.0/8", "1.2.3/8", "127.0.0.0/8x", "127.0.0.0/-1",
                                      "localhost", "1.2.3.4/0008", "::1/12a",
                                      "a very long string that is certainly not an address at all"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        w3_cidr_t c;
        const char *why = NULL;
        CHECK(w3_net_parse_cidr(good[i], &c, &why), "%s refused: %s", good[i], why);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        w3_cidr_t c;
        const char *why = NULL;
        CHECK(!w3_net_parse_cidr(bad[i], &c, &why) && why, "'%s' accepted", bad[i]);
    }
    w3_cidr_t c;
    const char *why;
    CHECK(w3_net_parse_cidr("10.1.2.3/8", &c, &why) && c.prefix == 8 && c.addr[0] == 10 &&
              c.addr[1] == 0 && c.addr[3] == 0,
          "10.1.2.3/8 keeps host bits");
    CHECK(w3_net_parse_cidr("1.2.3.4", &c, &why) && c.prefix == 32, "a bare IPv4 is one host");
    CHECK(w3_net_parse_cidr("::1", &c, &why) && c.prefix == 128, "a bare IPv6 is one host");
}

static void test_allows(void)
{
    w3_net_policy_t none = {0};
    CHECK(!allows(&none, "127.0.0.1") && !allows(&none, "::1") && !w3_net_any(&none),
          "the default policy allows nothing");
    w3_net_policy_t all = {.inherit = true};
    CHECK(allows(&all, "192.0.2.1") && allows(&all, "2001:db8::1") && w3_net_any(&all),
          "inherit-network allows everything");

    w3_net_policy_t p = {0};
    CHECK(!w3_net_allow_cidr(&p, "127.0.0.0/8"), "add 127.0.0.0/8");
    CHECK(!w3_net_allow_cidr(&p, "192.168.4.0/22"), "add 192.168.4.0/22");
    CHECK(!w3_net_allow_cidr(&p, "::1"), "add ::1");
    CHECK(!w3_net_allow_cidr(&p, "fd00::/9"), "add fd00::/9");
    CHECK(w3_net_any(&p), "rules allow something");
    CHECK(allows(&p, "127.0.0.1") && allows(&p, "127.255.255.255"), "inside 127/8");
    CHECK(!allows(&p, "128.0.0.1") && !allows(&p, "126.255.255.255"), "outside 127/8");
    CHECK(allows(&p, "192.168.4.0") && allows(&p, "192.168.7.255"), "inside /22");
    CHECK(!allows(&p, "192.168.8.0") && !allows(&p, "192.168.3.255"), "outside /22");
    CHECK(allows(&p, "::1") && !allows(&p, "::2"), "one IPv6 host");
    CHECK(allows(&p, "fd7f::1") && !allows(&p, "fd80::1"), "an odd IPv6 prefix");
    /* Families never mix: ::ffff:127.0.0.1 is not 127.0.0.1 (and wasi:sockets
     * refuses IPv4-mapped addresses before the policy is asked). */
    CHECK(!allows(&p, "::ffff:127.0.0.1"), "IPv4-mapped is not IPv4");
    struct sockaddr un = {.sa_family = AF_UNIX};
    CHECK(!w3_net_allows(&p, &un), "other families are refused");
    whirl_error_t *e = w3_net_allow_cidr(&p, "127.0.0.0/40");
    CHECK(e && strstr(whirl_error_message(e), "127.0.0.0/40") &&
              strstr(whirl_error_message(e), "at most 32"),
          "the error names the block and the reason: %s", e ? whirl_error_message(e) : "none");
    whirl_error_delete(e);
    w3_net_policy_free(&p);
    w3_net_policy_free(NULL);
}

static void test_public_api(void)
{
    whirl_wasi2_config_t *cfg = whirl_wasi2_config_new();
    whirl_error_t *e = whirl_wasi2_config_allow_ip(cfg, "not-an-ip");
    CHECK(e && strstr(whirl_error_message(e), "not-an-ip"), "allow_ip refuses a bad block");
    whirl_error_delete(e);
    e = whirl_wasi2_config_allow_ip(cfg, NULL);
    CHECK(e != NULL, "allow_ip refuses NULL");
    whirl_error_delete(e);
    e = whirl_wasi2_config_allow_ip(NULL, "::1");
    CHECK(e != NULL, "allow_ip refuses a NULL config");
    whirl_error_delete(e);
    e = whirl_wasi2_config_inherit_network(NULL);
    CHECK(e != NULL, "inherit_network refuses a NULL config");
    whirl_error_delete(e);
    CHECK(!whirl_wasi2_config_allow_ip(cfg, "127.0.0.0/8"), "allow_ip takes a good block");
    CHECK(!whirl_wasi2_config_inherit_network(cfg), "inherit_network");
    whirl_wasi2_t *w = NULL;
    CHECK(!whirl_wasi2_new(cfg, &w) && w, "a context with a policy");
    whirl_wasi2_delete(w); /* frees the rules (ASan checks) */
    cfg = whirl_wasi2_config_new();
    CHECK(!whirl_wasi2_config_allow_ip(cfg, "::/0"), "allow_ip ::/0");
    whirl_wasi2_config_delete(cfg); /* a config never used frees them too */
}

int main(void)
{
    test_parse();
    test_allows();
    test_public_api();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
