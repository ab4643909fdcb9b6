/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_AGENT_RUN_H
#define VOUCH_AGENT_RUN_H
/*
 * One round of vouch-agent: open the TPM, enrol when needed, report, and
 * recover from what the service says (IMA index resync, a lost instance or
 * AK).  The state file is written after every change the service knows of.
 * Used by main.c (the schedule) and the tests.
 */
#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/agent_rpc.h"
#include "evidence/tpm/tpm.h"
#include "vouch/err.h"

struct vouch_agent {
    struct vouch_agent_conf conf;            /* every field set (defaults filled in) */
    struct vouch_tpm_pcr_select sel;
    struct vouch_agent_rpc rpc;
    struct vouch_agent_state st;
    char boot_id_path[256];                  /* /proc/sys/kernel/random/boot_id */
    char dmi_uuid_path[256];                 /* /sys/class/dmi/id/product_uuid */
};

/* What a round ended with. */
struct vouch_agent_outcome {
    bool accepted;                           /* PutMessage answered 200 */
    bool enrolled;                           /* this round enrolled an AK */
    int system_status, program_status;       /* 1 trusted .. 4 not evaluated; 0 unknown */
    char system_code[64], program_code[64];
    uint64_t ima_start, ima_sent, ima_next;  /* entries sent from ima_start; the next index */
    size_t filedata_len;                     /* bytes of FileData sent */
    struct vouch_agent_rpc_fault fault;      /* the last refusal */
    char recovered[128];                     /* Codes of refusals recovered from, ','-joined */
};

/*
 * Create the state directory (mode 0700) and load state.json, choosing the
 * PropertyUuid (--uuid, else the one kept, else the DMI product UUID, else
 * a random one) and saving it.
 */
vouch_err vouch_agent_start(struct vouch_agent *a, struct vouch_errbuf *eb);

/* Read state.json again (after a round run by another process). */
vouch_err vouch_agent_reload(struct vouch_agent *a, struct vouch_errbuf *eb);

/* One round at time `now`.  VOUCH_E_AUTH: the credentials were refused. */
vouch_err vouch_agent_round(struct vouch_agent *a, int64_t now, struct vouch_agent_outcome *ret,
                            struct vouch_errbuf *eb);

void vouch_agent_done(struct vouch_agent *a);

#endif
