/* Which IP addresses a guest's sockets may use (wasi:sockets 0.3): none by
 * default, all with inherit-network, or those inside allow-ip CIDR blocks
 * (whirl_wasi2_config_inherit_network / _allow_ip, `whirl run -S
 * inherit-network`, `-S allow-ip=CIDR`). Kept apart from wasi3.h so that the
 * WASI context (src/wasi2) can hold a policy without the socket code. */
#ifndef WHIRL_WASI3_NET_POLICY_H
#define WHIRL_WASI3_NET_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "whirl.h"

enum { W3_NET_MAX_RULES = 1024 };

typedef struct w3_cidr {
    int family;        /* AF_INET or AF_INET6 */
    uint8_t addr[16];  /* network address (4 or 16 bytes), host bits cleared */
    unsigned prefix;   /* 0-32 or 0-128 */
} w3_cidr_t;

typedef struct w3_net_policy {
    bool inherit;      /* every address */
    w3_cidr_t *rules;  /* allow-ip blocks */
    size_t nrules;
} w3_net_policy_t;

/* Adds an allow-ip block: "A.B.C.D/N", "IPV6/N", or an address alone (one
 * host). Errors name `cidr` and what is wrong with it. */
whirl_error_t *w3_net_allow_cidr(w3_net_policy_t *p, const char *cidr);
/* Parses a CIDR without keeping it (for command-line checks). */
bool w3_net_parse_cidr(const char *cidr, w3_cidr_t *out, const char **why);
/* Whether the address `sa` may be used (bound to, connected to, sent to). */
bool w3_net_allows(const w3_net_policy_t *p, const struct sockaddr *sa);
/* Whether any network access is allowed at all (gates name lookup). */
bool w3_net_any(const w3_net_policy_t *p);
void w3_net_policy_free(w3_net_policy_t *p);

#endif
