/* SPDX-License-Identifier: Apache-2.0 */
#include "server/api.h"

/* Every endpoint of vouchd. */
const struct vouch_route vouch_routes[] = {
    { "GET", "/healthz", vouch_api_healthz, 0 },
    /* operations (docs/operations.md): readiness and Prometheus metrics */
    { "GET", "/readyz", vouch_api_readyz, 0 },
    { "GET", "/metrics", vouch_api_metrics, 0 },

    /* OIDC discovery and keys (Alibaba: /jwks.json; trustee: /.well-known/jwks.json) */
    { "GET", "/.well-known/openid-configuration", vouch_api_openid_configuration, 0 },
    { "GET", "/jwks.json", vouch_api_jwks, 0 },
    { "GET", "/.well-known/jwks.json", vouch_api_jwks, 0 },
    { "GET", "/jwks", vouch_api_jwks, 0 },
    /* OAuth endpoints Alibaba's discovery names: OAuth errors, no flow (api_oidc.c) */
    { "GET", "/authorize", vouch_api_oauth_unsupported, 0 },
    { "POST", "/authorize", vouch_api_oauth_unsupported, 0 },
    { "GET", "/token", vouch_api_oauth_unsupported, 0 },
    { "POST", "/token", vouch_api_oauth_unsupported, 0 },
    { "GET", "/userinfo", vouch_api_oauth_unsupported, 0 },
    { "POST", "/userinfo", vouch_api_oauth_unsupported, 0 },

    /* attestation (Alibaba's path, and trustee's) */
    { "POST", "/v1/attestation", vouch_api_attest, 0 },
    { "POST", "/attestation", vouch_api_attest, 0 },
    { "POST", "/challenge", vouch_api_challenge, 0 },

    /* policies (admin; trustee's shapes) */
    { "POST", "/policy", vouch_api_policy_post, VOUCH_ROUTE_ADMIN },
    { "GET", "/policy", vouch_api_policy_list, VOUCH_ROUTE_ADMIN },
    { "GET", "/policy/{id}", vouch_api_policy_get, VOUCH_ROUTE_ADMIN },
    { "DELETE", "/policy/{id}", vouch_api_policy_delete, VOUCH_ROUTE_ADMIN },

    /* Intel PCS/PCCS-compatible collateral */
    { "GET", "/sgx/certification/v3/tcb", vouch_api_pccs_tcb, 0 },
    { "GET", "/sgx/certification/v4/tcb", vouch_api_pccs_tcb, 0 },
    { "GET", "/tdx/certification/v4/tcb", vouch_api_pccs_tcb, 0 },
    { "GET", "/sgx/certification/v3/qe/identity", vouch_api_pccs_identity, 0 },
    { "GET", "/sgx/certification/v4/qe/identity", vouch_api_pccs_identity, 0 },
    { "GET", "/sgx/certification/v3/qve/identity", vouch_api_pccs_identity, 0 },
    { "GET", "/sgx/certification/v4/qve/identity", vouch_api_pccs_identity, 0 },
    { "GET", "/sgx/certification/v4/qae/identity", vouch_api_pccs_identity, 0 },
    { "GET", "/tdx/certification/v4/qe/identity", vouch_api_pccs_identity, 0 },
    { "GET", "/sgx/certification/v3/pckcrl", vouch_api_pccs_pckcrl, 0 },
    { "GET", "/sgx/certification/v4/pckcrl", vouch_api_pccs_pckcrl, 0 },
    { "GET", "/sgx/certification/v3/pckcert", vouch_api_pccs_pckcert, 0 },
    { "GET", "/sgx/certification/v4/pckcert", vouch_api_pccs_pckcert, 0 },
    { "GET", "/sgx/certification/v3/rootcacrl", vouch_api_pccs_rootcacrl, 0 },
    { "GET", "/sgx/certification/v4/rootcacrl", vouch_api_pccs_rootcacrl, 0 },
    { "GET", "/sgx/certification/v4/fmspcs", vouch_api_pccs_fmspcs, 0 },
    { "POST", "/admin/collateral", vouch_api_admin_collateral, VOUCH_ROUTE_ADMIN },
    { "GET", "/admin/collateral", vouch_api_admin_collateral_list, VOUCH_ROUTE_ADMIN },
    { "GET", "/admin/collateral/amd", vouch_api_admin_amd_chips, VOUCH_ROUTE_ADMIN },

    /* AMD KDS-compatible collateral: {item} is a hwID, "cert_chain" or "crl" */
    { "GET", "/vcek/v1/{product}/{item}", vouch_api_kds_vcek, 0 },
    { "GET", "/vlek/v1/{product}/{item}", vouch_api_kds_vlek, 0 },

    /* NVIDIA RIMs: admin import; public reads in the NVIDIA RIM service's shape */
    { "POST", "/admin/rim", vouch_api_rim_post, VOUCH_ROUTE_ADMIN },
    { "GET", "/admin/rim", vouch_api_rim_list, VOUCH_ROUTE_ADMIN },
    { "DELETE", "/admin/rim/{id}", vouch_api_rim_delete, VOUCH_ROUTE_ADMIN },
    { "GET", "/v1/rim/{id}", vouch_api_rim_get, 0 },

    /* reference values (admin) */
    { "POST", "/reference-value", vouch_api_refval_post, VOUCH_ROUTE_ADMIN },
    { "GET", "/reference-value", vouch_api_refval_list, VOUCH_ROUTE_ADMIN },
    { "GET", "/reference-value/{id}", vouch_api_refval_get, VOUCH_ROUTE_ADMIN },
    { "DELETE", "/reference-value/{id}", vouch_api_refval_delete, VOUCH_ROUTE_ADMIN },

    /* vTPM trusted instances: Alibaba RPC style, AccessKey-signed (api_vtpm.c) */
    { "GET", "/", vouch_api_vtpm_rpc, VOUCH_ROUTE_LARGE | VOUCH_ROUTE_RPC },
    { "POST", "/", vouch_api_vtpm_rpc, VOUCH_ROUTE_LARGE | VOUCH_ROUTE_RPC },
    { "POST", "/admin/accesskeys", vouch_api_accesskey_post, VOUCH_ROUTE_ADMIN },
    { "GET", "/admin/accesskeys", vouch_api_accesskey_list, VOUCH_ROUTE_ADMIN },
    { "DELETE", "/admin/accesskeys/{id}", vouch_api_accesskey_delete, VOUCH_ROUTE_ADMIN },
    /* the same actions for the operator, as account {account} (api_vtpm.c) */
    { "GET", "/admin/vtpm/{account}", vouch_api_vtpm_admin,
      VOUCH_ROUTE_ADMIN | VOUCH_ROUTE_SELF_AUDIT },
    { "POST", "/admin/vtpm/{account}", vouch_api_vtpm_admin,
      VOUCH_ROUTE_ADMIN | VOUCH_ROUTE_SELF_AUDIT },

    /* the attestation history and the web console (docs/console.md) */
    { "GET", "/admin/attestations", vouch_api_admin_attestations, VOUCH_ROUTE_ADMIN },
    { "GET", "/console", vouch_api_console_index, 0 },
    { "GET", "/console/{file}", vouch_api_console_file, 0 },

    /* admin */
    { "GET", "/admin/keys", vouch_api_admin_keys, VOUCH_ROUTE_ADMIN },
    { "POST", "/admin/keys/rotate", vouch_api_admin_keys_rotate, VOUCH_ROUTE_ADMIN },
    { "GET", "/admin/audit", vouch_api_audit_list, VOUCH_ROUTE_ADMIN },
};
const size_t vouch_n_routes = sizeof(vouch_routes) / sizeof(vouch_routes[0]);
