/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCB level matching and status convergence, as Intel QVL's
 * Verifiers/Checks/EvaluateTcb.cpp and TDRelaunchCheck.cpp define them
 * (the TCB-level steps of the algorithm in docs/dcap.md).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "evidence/dcap/dcap_int.h"

const struct vouch_dcap_tdx_module *vouch_dcap_find_module(const struct vouch_dcap_tcb_info *ti,
                                                           uint8_t version)
{
    char id[16];
    size_t i;

    snprintf(id, sizeof(id), "TDX_%02X", version);
    for (i = 0; i < ti->n_module_ids; i++)
        if (strcasecmp(ti->module_ids[i].id, id) == 0)
            return &ti->module_ids[i];
    return NULL;
}

static bool svns_ge(const uint8_t *have, const uint8_t *need, int from)
{
    int i;

    for (i = from; i < 16; i++)
        if (have[i] < need[i])
            return false;
    return true;
}

static const struct vouch_dcap_id_level *id_level(const struct vouch_dcap_id_level *lv,
                                                  size_t n, uint16_t svn)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (svn >= lv[i].isvsvn)
            return &lv[i];
    return NULL;
}

static bool config_needed(enum vouch_dcap_tcb_status s)
{
    return s == VOUCH_DCAP_CONFIGURATION_NEEDED ||
           s == VOUCH_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED ||
           s == VOUCH_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
           s == VOUCH_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

static enum vouch_dcap_tcb_status converge(enum vouch_dcap_tcb_status p,
                                           const enum vouch_dcap_tcb_status *comp, size_t n)
{
    bool ood = false, revoked = false;
    size_t i;

    for (i = 0; i < n; i++) {
        ood |= comp[i] == VOUCH_DCAP_OUT_OF_DATE;
        revoked |= comp[i] == VOUCH_DCAP_REVOKED;
    }
    if (ood) {
        if (p == VOUCH_DCAP_UP_TO_DATE || p == VOUCH_DCAP_SW_HARDENING_NEEDED)
            p = VOUCH_DCAP_OUT_OF_DATE;
        else if (p == VOUCH_DCAP_CONFIGURATION_NEEDED ||
                 p == VOUCH_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            p = VOUCH_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    if (revoked)
        p = VOUCH_DCAP_REVOKED;
    return p;
}

static vouch_err append_ids(json_t *dst, const json_t *src)
{
    size_t i;
    json_t *v;

    if (!src)
        return VOUCH_OK;
    json_array_foreach(src, i, v)
        if (json_array_append(dst, v))
            return VOUCH_E_NOMEM;
    return VOUCH_OK;
}

/* One pass of tdxEvaluateTCB / sgxEvaluateTCB; tee_svn NULL for SGX. */
static vouch_err evaluate_once(const struct vouch_dcap_pck_info *pck,
                               const struct vouch_dcap_tcb_info *ti,
                               const struct vouch_dcap_qe_identity *qi, uint16_t qe_isvsvn,
                               const uint8_t *tee_svn, struct dcap_eval *ret,
                               struct vouch_errbuf *eb)
{
    const struct vouch_dcap_tcb_level *plat = NULL;
    const struct vouch_dcap_id_level *mod = NULL, *qe = NULL;
    enum vouch_dcap_tcb_status comp[2];
    struct dcap_eval ev;
    size_t i, ncomp = 0;
    int from = 0;

    memset(&ev, 0, sizeof(ev));
    if (tee_svn && tee_svn[1] > 0)
        from = 2;
    for (i = 0; i < ti->n_levels; i++) {
        const struct vouch_dcap_tcb_level *l = &ti->levels[i];

        if (!svns_ge(pck->comp_svn, l->sgx_svn, 0) || pck->pce_svn < l->pce_svn)
            continue;
        if (tee_svn && !svns_ge(tee_svn, l->tdx_svn, from))
            continue;
        plat = l;
        break;
    }
    if (!plat)
        return vouch_fail(eb, VOUCH_E_VERIFY, "tcb level: the platform TCB is below every "
                          "TCB level of FMSPC %02x%02x%02x%02x%02x%02x (TCB not supported)",
                          ti->fmspc[0], ti->fmspc[1], ti->fmspc[2], ti->fmspc[3],
                          ti->fmspc[4], ti->fmspc[5]);
    ev.platform_status = plat->status;
    ev.tcb_date = plat->tcb_date;
    if (tee_svn && tee_svn[1] > 0) {
        const struct vouch_dcap_tdx_module *m = vouch_dcap_find_module(ti, tee_svn[1]);

        if (!m)
            return vouch_fail(eb, VOUCH_E_VERIFY, "tdx module: no identity TDX_%02X in the "
                              "TCB info (TCB not supported)", tee_svn[1]);
        mod = id_level(m->levels, m->n_levels, tee_svn[0]);
        if (!mod)
            return vouch_fail(eb, VOUCH_E_VERIFY, "tdx module: module SVN %u is below every "
                              "level of %s (TCB not supported)", tee_svn[0], m->id);
        ev.has_module_status = true;
        ev.module_status = mod->status;
        comp[ncomp++] = mod->status;
        if (mod->tcb_date < ev.tcb_date)
            ev.tcb_date = mod->tcb_date;
    }
    if (qi) {
        enum vouch_dcap_tcb_status s;

        qe = id_level(qi->levels, qi->n_levels, qe_isvsvn);
        if (!qe)
            return vouch_fail(eb, VOUCH_E_VERIFY, "qe tcb level: QE ISVSVN %u is below every "
                              "level of the %s identity (TCB not supported)", qe_isvsvn,
                              qi->id);
        s = qe->status;
        if (s == VOUCH_DCAP_SW_HARDENING_NEEDED ||
            s == VOUCH_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            return vouch_fail(eb, VOUCH_E_VERIFY, "qe tcb level: status %s is not valid for "
                              "a QE identity", vouch_dcap_status_name(s));
        ev.has_qe_status = true;
        ev.qe_status = s;
        comp[ncomp++] = s;
        if (qe->tcb_date < ev.tcb_date)
            ev.tcb_date = qe->tcb_date;
    }
    ev.status = converge(plat->status, comp, ncomp);
    ev.advisory_ids = json_array();
    if (!ev.advisory_ids || append_ids(ev.advisory_ids, plat->advisory_ids) ||
        append_ids(ev.advisory_ids, qe ? qe->advisory_ids : NULL) ||
        append_ids(ev.advisory_ids, mod ? mod->advisory_ids : NULL)) {
        json_decref(ev.advisory_ids);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    *ret = ev;
    return VOUCH_OK;
}

static enum vouch_dcap_tcb_status relaunch(enum vouch_dcap_tcb_status launch,
                                           enum vouch_dcap_tcb_status current)
{
    if (launch != VOUCH_DCAP_OUT_OF_DATE && launch != VOUCH_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED)
        return launch;
    if (current != VOUCH_DCAP_UP_TO_DATE && current != VOUCH_DCAP_SW_HARDENING_NEEDED &&
        current != VOUCH_DCAP_CONFIGURATION_NEEDED &&
        current != VOUCH_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED)
        return launch;
    if (config_needed(launch) || config_needed(current))
        return VOUCH_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
    return VOUCH_DCAP_TD_RELAUNCH_ADVISED;
}

vouch_err vouch_dcap_evaluate(const struct vouch_dcap_pck_info *pck,
                              const struct vouch_dcap_tcb_info *ti,
                              const struct vouch_dcap_qe_identity *qi, uint16_t qe_isvsvn,
                              const uint8_t *tee_tcb_svn, const uint8_t *tee_tcb_svn2,
                              struct dcap_eval *ret, struct vouch_errbuf *eb)
{
    struct dcap_eval launch, current;
    vouch_err e;

    e = evaluate_once(pck, ti, qi, qe_isvsvn, tee_tcb_svn, &launch, eb);
    if (e)
        return e;
    /*
     * TD 1.5: evaluate again with TEE_TCB_SVN2 (the module the platform
     * runs now); an OutOfDate launch with a good current state advises a
     * relaunch.  As in QVL, a current state below every level fails.
     */
    if (tee_tcb_svn2) {
        e = evaluate_once(pck, ti, qi, qe_isvsvn, tee_tcb_svn2, &current, eb);
        if (e) {
            json_decref(launch.advisory_ids);
            return vouch_fail_prefix(eb, e, "tee_tcb_svn2: ");
        }
        json_decref(current.advisory_ids);
        launch.status = relaunch(launch.status, current.status);
    }
    *ret = launch;
    return VOUCH_OK;
}
